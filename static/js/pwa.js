/* Kairos as an installable app: registers the service worker (/sw.js), offers "Install app"
   when the browser allows it (a hint on iOS Safari instead), says when a page is a copy saved
   for offline reading, and forgets saved private pages when someone signs out. */
(() => {
  "use strict";

  const PRIVATE_CACHE = "kairos-private"; // the worker's saved "my appointments" pages
  const DISMISSED_KEY = "kairos:install-offer-dismissed";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
      console.warn("Kairos: the service worker was not registered", error);
    });
  }

  // Sign-out: the worker forgets the saved pages, and so does this page in case the
  // worker is not running it (the server's reply also tells the worker nobody is signed in).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const action = form.getAttribute("hx-post") || form.getAttribute("action") || "";
    const path = new URL(action, location.href).pathname.replace(/\/+$/, "");
    if (!path.endsWith("/account/sign-out")) return;
    const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (worker) worker.postMessage({ type: "forget-private-pages" });
    if ("caches" in window) caches.delete(PRIVATE_CACHE);
  }, true);

  // Connection status, and whether this page is a saved copy (the worker marks those).
  const status = document.querySelector("[data-pwa-status]");
  const main = document.querySelector("main");
  if (status && main) main.prepend(status);
  const savedCopy = document.querySelector('meta[name="kairos-saved-copy"]');

  function say(...parts) {
    if (!status) return;
    const banner = document.createElement("p");
    banner.className = "pwa-banner";
    banner.append(...parts);
    status.replaceChildren(banner);
  }

  function savedAtElement(iso) {
    const when = new Date(iso);
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = isNaN(when) ? "earlier" : when.toLocaleString([], {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    });
    return time;
  }

  function reloadLink(text) {
    const link = document.createElement("a");
    link.href = location.href;
    link.textContent = text;
    return link;
  }

  if (savedCopy) {
    // Filled after a moment so that screen readers announce it.
    setTimeout(() => say(
      "You're offline — this is your last saved copy from ", savedAtElement(savedCopy.content),
      ". It may be out of date.",
    ), 50);
  }
  window.addEventListener("offline", () => {
    if (!savedCopy) say("You're offline. Pages you open now may not load until you reconnect.");
  });
  window.addEventListener("online", () => {
    if (savedCopy) say("You're back online. ", reloadLink("Load the latest version"), ".");
    else if (status) status.replaceChildren();
  });

  // The offline page links to the saved appointments when there are some.
  const savedLink = document.querySelector("[data-pwa-saved-appointments]");
  if (savedLink && "caches" in window) {
    caches.has(PRIVATE_CACHE).then(async (exists) => {
      if (!exists) return;
      const saved = await (await caches.open(PRIVATE_CACHE)).keys();
      if (saved.some((request) => new URL(request.url).pathname.startsWith("/appointments"))) {
        savedLink.hidden = false;
      }
    });
  }

  // Install: the browser's own prompt where it offers one, a short hint on iOS Safari.
  const offer = document.querySelector("[data-pwa-install]");
  const standalone = window.matchMedia("(display-mode: standalone)").matches
    || navigator.standalone === true;
  // Not on the offline page nor a saved copy: installing needs the network.
  const offline = savedCopy || document.querySelector("[data-pwa-offline-page]");
  if (offer && !standalone && !offline && !dismissed()) setUpInstallOffer(offer);

  function setUpInstallOffer(offer) {
    const button = offer.querySelector("[data-pwa-install-button]");
    let deferredPrompt = null;

    window.addEventListener("beforeinstallprompt", (event) => {
      event.preventDefault(); // show our button instead of the browser's banner
      deferredPrompt = event;
      offer.querySelector("[data-pwa-ios-hint]").hidden = true;
      offer.querySelector("[data-pwa-install-text]").hidden = false;
      button.hidden = false;
      offer.hidden = false;
    });
    button.addEventListener("click", async () => {
      if (!deferredPrompt) return;
      offer.hidden = true;
      deferredPrompt.prompt();
      await deferredPrompt.userChoice;
      deferredPrompt = null;
    });
    offer.querySelector("[data-pwa-dismiss]").addEventListener("click", () => {
      offer.hidden = true;
      try { localStorage.setItem(DISMISSED_KEY, "1"); } catch (storageUnavailable) { /* fine */ }
    });
    window.addEventListener("appinstalled", () => { offer.hidden = true; });

    if (isIosSafari()) {
      offer.querySelector("[data-pwa-ios-hint]").hidden = false;
      offer.hidden = false;
    }
  }

  function dismissed() {
    try { return localStorage.getItem(DISMISSED_KEY) === "1"; } catch (storageUnavailable) { return false; }
  }

  function isIosSafari() {
    const ua = navigator.userAgent;
    const ios = /iPhone|iPad|iPod/.test(ua)
      || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1); // iPadOS
    return ios && /Safari/.test(ua) && !/CriOS|FxiOS|EdgiOS|OPiOS/.test(ua);
  }
})();
