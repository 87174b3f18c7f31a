/* Web push: "Notify me on this device". Nothing is asked on page load; the browser's
   permission prompt appears only when the person taps the button. The subscription goes
   to the server with the device's time zone, so times can be shown on its clock too. */
(function () {
  "use strict";

  const offer = document.querySelector("[data-push-offer]");
  if (!offer) return;
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported || Notification.permission === "denied") return;

  const status = offer.querySelector("[data-push-status]");
  const button = offer.querySelector("[data-push-enable]");

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrf_token]");
    if (input) return input.value;
    const headers = document.body.getAttribute("hx-headers:inherited") || "{}";
    return JSON.parse(headers)["X-CSRFToken"] || "";
  }

  async function send(subscription) {
    const response = await fetch(offer.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({
        subscription: subscription.toJSON(),
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      }),
    });
    if (!response.ok) {
      const error = new Error("the server refused the subscription: " + response.status);
      // A refusal in plain words (another account's device, a push service Kairos does
      // not send to) is shown as it is.
      const body = await response.json().catch(() => ({}));
      error.shown = body.errors && body.errors.subscription;
      throw error;
    }
    return response.json();
  }

  async function enable() {
    button.disabled = true;
    status.textContent = "Asking your browser…";
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        status.textContent = "Notifications stay off. You can allow them later in your browser's site settings.";
        button.disabled = false;
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = (await registration.pushManager.getSubscription()) ||
        (await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(offer.dataset.key),
        }));
      const device = await send(subscription);
      offer.dataset.subscribed = "true";
      button.hidden = true;
      status.textContent = "Done: " + device.label + " will get notifications.";
      if (offer.dataset.reload === "true") window.location.reload();  // to list the device
    } catch (error) {
      console.warn("Kairos: push subscription failed", error);
      status.textContent = error.shown || "That didn't work. Please try again in a moment.";
      button.disabled = false;
    }
  }

  // Offer it only where it would do something: not on a device this person already has.
  const known = JSON.parse(offer.dataset.endpoints || "[]");
  navigator.serviceWorker.ready.then((registration) => registration.pushManager.getSubscription())
    .then((existing) => {
      if (existing && known.includes(existing.endpoint)) return;
      offer.hidden = false;
      button.addEventListener("click", enable);
    })
    .catch(() => {});
})();
