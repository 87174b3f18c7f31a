/* Kairos service worker, served from /sw.js so that its scope is the whole site.
   Rendered by views/pwa.py, which fills in the cache version and the files to pre-cache.

   - /static/ files: cache first, in a cache named after a hash of the static files;
     older caches are deleted when a new worker activates.
   - Pages: network first; offline, the pre-cached offline page instead.
   - Pages are never cached, except the signed-in customer's "my appointments" pages
     (under /appointments), kept in their own cache so they can be read offline. That
     cache is wiped on sign-out and as soon as a page says someone else (or nobody) is
     signed in, so one person's pages are never shown to another.
   - Push: each message (JSON: title, body, url, tag) is shown as a notification; a tap
     opens its booking, in a Kairos window already open when there is one. */
"use strict";

const STATIC_CACHE = "kairos-static-" + {{ version|tojson }};
const PRIVATE_CACHE = "kairos-private";
const PRECACHE = {{ precache|tojson }};
const OFFLINE_URL = {{ offline_url|tojson }};
const USER_HEADER = {{ user_header|tojson }};
const SAVED_AT_HEADER = "X-Kairos-Saved-At";
const USER_KEY = "/__kairos/signed-in-user"; // in PRIVATE_CACHE: whose pages it holds

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    // Without cookies: the pre-cached offline page must carry nobody's session.
    // "no-cache" revalidates what the page has just loaded (a 304) instead of fetching it all again.
    const requests = PRECACHE.map((url) => new Request(url, { credentials: "omit", cache: "no-cache" }));
    await cache.addAll(requests);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("kairos-") && name !== STATIC_CACHE && name !== PRIVATE_CACHE) {
        await caches.delete(name);
      }
    }
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "forget-private-pages") {
    event.waitUntil(caches.delete(PRIVATE_CACHE));
  }
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data.text() };
  }
  const icon = PRECACHE.find((url) => url.includes("apple-touch-icon")) || undefined;
  event.waitUntil(self.registration.showNotification(data.title || "Kairos", {
    body: data.body || "",
    tag: data.tag || undefined, // news about the same booking replaces the older one
    renotify: Boolean(data.tag),
    icon,
    data: { url: data.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || "/", self.location.origin);
  if (target.origin !== self.location.origin) return; // only ever open our own pages
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).origin === target.origin);
    if (open) {
      await open.focus();
      return open.navigate(target.href);
    }
    return self.clients.openWindow(target.href);
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(event));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});

async function cacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(event) {
  let response;
  try {
    response = (await event.preloadResponse) || (await fetch(event.request));
  } catch (networkError) {
    return (await savedCopy(event.request)) || (await offlinePage());
  }
  event.waitUntil(remember(response.clone()));
  return response;
}

function isPrivate(url) {
  const path = new URL(url).pathname;
  return path === "/appointments" || path.startsWith("/appointments/");
}

async function remember(response) {
  const user = response.headers.get(USER_HEADER);
  if (user === null) return; // not one of our pages (a redirect, say): it tells us nothing
  await forgetOtherUsers(user);
  if (!user || !response.ok || !isPrivate(response.url)) return;
  const headers = new Headers(response.headers);
  headers.delete("Content-Encoding"); // the body below is already decoded
  headers.delete("Content-Length");
  headers.set(SAVED_AT_HEADER, new Date().toISOString());
  const body = await response.blob();
  const cache = await caches.open(PRIVATE_CACHE);
  await cache.put(response.url, new Response(body, { status: response.status, headers }));
}

async function forgetOtherUsers(user) {
  const cache = await caches.open(PRIVATE_CACHE);
  const saved = await cache.match(USER_KEY);
  if (saved && (await saved.text()) === user) return;
  await caches.delete(PRIVATE_CACHE);
  if (user) await (await caches.open(PRIVATE_CACHE)).put(USER_KEY, new Response(user));
}

async function savedCopy(request) {
  if (!isPrivate(request.url) || !(await caches.has(PRIVATE_CACHE))) return null;
  const cache = await caches.open(PRIVATE_CACHE);
  const [page, owner] = await Promise.all([
    cache.match(request.url, { ignoreVary: true }),
    cache.match(USER_KEY),
  ]);
  if (!page || !owner || page.headers.get(USER_HEADER) !== (await owner.text())) return null;
  // Mark the page as a saved copy; static/js/pwa.js shows when it was saved.
  const savedAt = page.headers.get(SAVED_AT_HEADER) || "";
  const marker = `<meta name="kairos-saved-copy" content="${savedAt.replace(/[^0-9A-Za-z:.+-]/g, "")}">`;
  const html = (await page.text()).replace(/<head[^>]*>/i, (head) => head + marker);
  return new Response(html, { status: 200, headers: page.headers });
}

async function offlinePage() {
  const cache = await caches.open(STATIC_CACHE);
  return (await cache.match(OFFLINE_URL, { ignoreVary: true })) || Response.error();
}
