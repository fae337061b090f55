/* The fair kiosk's service worker (scope /kiosk/): keeps the shell, its script and style, the stand's catalogue
 * (stock and product answers), photos and QR codes, so that the kiosk starts and sells when the hall's network is
 * down. Orders are never cached: they go to the network or wait in the page's IndexedDB queue. */
'use strict';

const VERSION = 'v1';
const SHELL_CACHE = 'kiosk-shell-' + VERSION;
const DATA_CACHE = 'kiosk-data-' + VERSION;
/** Served by /kiosk/sw.js with each address rewritten to the file's content-hashed one
 * (/static/kiosk/kiosk.<hash>.js): a changed file changes this script, so the browser installs the new worker, which
 * keeps the new files. */
const PRECACHE = ['/static/kiosk/kiosk.js', '/static/kiosk/kiosk.css', '/static/favicon.svg'];
const NETWORK_TIMEOUT_MS = 4000;
const SHELL_PAGE = /^\/kiosk\/[^/]+$/;

/** Newest from the network; the stored copy when the network fails or hangs (marked, so the page knows it is
 * offline). */
const NETWORK_FIRST = [
  SHELL_PAGE,
  /^\/api\/v1\/outlets\/\d+\/stock$/,
  /^\/api\/v1\/products\/\d+$/,
];
/** The stored copy at once, refreshed behind it for the next start: a reload on a hanging network waits for none
 * of them. */
const STALE_WHILE_REVALIDATE = [
  /^\/kiosk\/[^/]+\/manifest\.webmanifest$/,
  /^\/static\/kiosk\/[^/]+\.(js|css)$/,
  /^\/static\/favicon\.svg$/,
];
/** Never change under their address (a content-hashed file's name changes with it): the stored copy first. */
const CACHE_FIRST = [
  /^\/anh\/[^/]+\.(jpg|webp)$/,
  /^\/kiosk\/[^/]+\/qr\/\d+\.svg$/,
  /^\/static\/(kiosk\/[^/]+|favicon)\.[0-9a-f]{12}\.(js|css|svg)$/,
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith('kiosk-') && !n.endsWith('-' + VERSION)).map((n) => caches.delete(n))),
      )
      .then(() => dropOldFiles().catch(() => null))
      .then(() => self.clients.claim()),
  );
});

// A kiosk page that loaded while this worker was being installed asks to be taken in.
self.addEventListener('message', (event) => {
  if (event.data === 'claim') event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (CACHE_FIRST.some((pattern) => pattern.test(path))) {
    event.respondWith(cacheFirst(request));
  } else if (STALE_WHILE_REVALIDATE.some((pattern) => pattern.test(path))) {
    event.respondWith(staleWhileRevalidate(event, request));
  } else if (NETWORK_FIRST.some((pattern) => pattern.test(path))) {
    event.respondWith(networkFirst(request, request.mode === 'navigate'));
  }
});

/** Static files of earlier versions go, except those a stored kiosk page still links (it may be started offline
 * before it is loaded afresh). */
async function dropOldFiles() {
  const cache = await caches.open(SHELL_CACHE);
  const requests = await cache.keys();
  const keep = new Set(PRECACHE);
  for (const request of requests) {
    if (!SHELL_PAGE.test(new URL(request.url).pathname)) continue;
    const page = await cache.match(request);
    for (const link of (await page.text()).matchAll(/\/static\/[^"'?#\s]+/g)) keep.add(link[0]);
  }
  const old = requests.filter((request) => {
    const path = new URL(request.url).pathname;
    return path.startsWith('/static/') && !keep.has(path);
  });
  await Promise.all(old.map((request) => cache.delete(request)));
}

function cacheFor(request) {
  const path = new URL(request.url).pathname;
  return path.startsWith('/api/') || path.startsWith('/anh/') || path.includes('/qr/') ? DATA_CACHE : SHELL_CACHE;
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(cacheFor(request));
    await cache.put(request, response.clone());
  }
  return response;
}

async function staleWhileRevalidate(event, request) {
  const cached = await caches.match(request, { ignoreVary: true });
  const refresh = fetch(request)
    .then(async (response) => {
      if (response.ok) {
        const cache = await caches.open(cacheFor(request));
        await cache.put(request, response.clone());
      }
      return response;
    })
    .catch(() => null);
  if (cached) {
    event.waitUntil(refresh);
    return cached;
  }
  return (await refresh) || Response.error();
}

async function networkFirst(request, navigation) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), NETWORK_TIMEOUT_MS);
  try {
    const response = await fetch(request, { signal: controller.signal });
    clearTimeout(timer);
    if (response.ok) {
      const cache = await caches.open(cacheFor(request));
      // A page's address may carry ?lang=…: one shell copy serves them all.
      const key = navigation ? new URL(request.url).pathname : request;
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    clearTimeout(timer);
    const key = navigation ? new URL(request.url).pathname : request;
    const cached = await caches.match(key, { ignoreVary: true, ignoreSearch: navigation });
    if (!cached) return Response.error();
    const headers = new Headers(cached.headers);
    headers.set('X-Kiosk-Cache', 'offline');
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}
