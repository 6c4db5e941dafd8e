// The phone pages' service worker (scope /m/): keeps the last copy of the report page and the
// assets it loads, so that 上报 opens without a network; reports made then wait in IndexedDB
// (phone.js). Pages: network first, the kept copy when offline. Assets (versioned URLs):
// the kept copy first. API calls are never cached.
"use strict";
var CACHE = "cityops-phone-v1";
var SHELL = ["/m/report"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).catch(function () {}));
  self.skipWaiting();
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/assets/") === 0) {
    e.respondWith(caches.match(req).then(function (hit) {
      return hit || fetch(req).then(function (resp) {
        if (resp.ok) { var copy = resp.clone(); caches.open(CACHE).then(function (c) { c.put(req, copy); }); }
        return resp;
      });
    }));
    return;
  }
  if (url.pathname === "/m/report" || url.pathname === "/m/me" || url.pathname === "/m/follow" ||
      url.pathname === "/m/places") {
    e.respondWith(fetch(req).then(function (resp) {
      if (resp.ok) { var copy = resp.clone(); caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); }); }
      return resp;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) { return hit || caches.match("/m/report"); });
    }));
  }
});
