"""A person's data: taking it away (export), and how long businesses keep it (retention)."""
