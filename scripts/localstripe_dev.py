"""localstripe for `make run STRIPE=local`: Stripe's stand-in on STRIPE_PORT, with its
webhooks sent to the app (the demo's card payments work end to end, offline). Runs until
stopped, like the web server and the worker beside it (Procfile.stripe)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests


def main() -> int:
    port = os.environ.get("STRIPE_PORT", "8420")
    base = f"http://127.0.0.1:{port}"
    stand_in = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", port])
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/js.stripe.com/v3/", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.2)
        app = os.environ.get("BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}")
        requests.post(
            f"{base}/_config/webhooks/kairos",
            data={"url": f"{app}/stripe/webhook", "secret": os.environ["STRIPE_WEBHOOK_SECRET"]},
            timeout=5,
        ).raise_for_status()
        print(f"localstripe on {base}, its webhooks to {app}/stripe/webhook", flush=True)
        return stand_in.wait()
    finally:
        stand_in.terminate()


if __name__ == "__main__":
    sys.exit(main())
