"""The workspace: what a business's owner and providers do, one module per workspace
page (views/workspace/ has the same names)."""
