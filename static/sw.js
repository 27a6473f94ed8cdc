/*
 * The service worker: opens the page without a network. Versioned vendor files are kept for
 * good; the page and the app's own files are fetched whenever the network answers (so a deploy
 * reaches users on their next load) and taken from the cache only when it does not. The API and
 * the live stream are never cached. Signing out deletes the kept pages.
 */
'use strict';

var VENDOR = 'todomvc-vendor';
var FILES = 'todomvc-files';
var PAGES = 'todomvc-pages';
/* How long a page load waits for the network before the kept copy is shown. */
var PAGE_TIMEOUT_MS = 4000;

function cacheFor(url) {
  if (url.pathname.indexOf('/static/vendor/') === 0) {
    return VENDOR;
  }
  if (url.pathname.indexOf('/static/') === 0) {
    return FILES;
  }
  return isPage(url) ? PAGES : null;
}

/* The list page (and its filtered views); not the sign-in pages or the API. */
function isPage(url) {
  return /^(\/lists\/[0-9]+)?(\/|\/active|\/completed)?$/.test(url.pathname) && url.pathname !== '';
}

function keep(cacheName, request, response) {
  if (response.ok && response.type === 'basic' && !response.redirected) {
    var copy = response.clone();
    caches.open(cacheName).then(function (cache) { return cache.put(request, copy); });
  }
  return response;
}

function cacheFirst(cacheName, request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      return keep(cacheName, request, response);
    });
  });
}

/* The network's answer, else (no network, or no answer in time for a page) the kept copy. */
function networkFirst(cacheName, request, timeout) {
  var fromNetwork = fetch(request).then(function (response) {
    return keep(cacheName, request, response);
  });
  var kept = function () {
    return caches.match(request).then(function (hit) {
      return hit || caches.match('/', { cacheName: PAGES }).then(function (page) {
        return cacheName === PAGES && page ? page : fromNetwork;
      });
    });
  };
  if (!timeout) {
    return fromNetwork.catch(kept);
  }
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () {
      kept().then(resolve, reject);
    }, timeout);
    fromNetwork.then(function (response) {
      clearTimeout(timer);
      resolve(response);
    }, function () {
      clearTimeout(timer);
      kept().then(resolve, reject);
    });
  });
}

/* Signing out: the kept pages hold the user's list; the static files are nobody's. */
function forget() {
  return caches.delete(PAGES);
}

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

/* The page names the files it uses; those not kept yet are fetched and kept. */
self.addEventListener('message', function (event) {
  var files = event.data && event.data.keep;
  if (!Array.isArray(files)) {
    return;
  }
  event.waitUntil(Promise.all(files.map(function (path) {
    var url = new URL(path, self.location.origin);
    var cacheName = url.origin === self.location.origin && cacheFor(url);
    if (!cacheName) {
      return null;
    }
    return caches.match(url.href).then(function (hit) {
      return hit || fetch(url.href).then(function (response) {
        return keep(cacheName, url.href, response);
      }).catch(function () { return null; });
    });
  })));
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === 'POST' && url.pathname === '/logout') {
    event.waitUntil(forget());
    return;
  }
  var cacheName = request.method === 'GET' && cacheFor(url);
  if (!cacheName || (cacheName === PAGES && request.mode !== 'navigate')) {
    return;
  }
  if (cacheName === VENDOR) {
    event.respondWith(cacheFirst(VENDOR, request));
  } else {
    event.respondWith(networkFirst(cacheName, request,
      cacheName === PAGES ? PAGE_TIMEOUT_MS : 0));
  }
});
