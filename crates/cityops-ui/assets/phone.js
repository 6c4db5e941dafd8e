// The phone pages (/m/…): camera photo, location (WGS84 from the browser; `crs` says when the
// platform gives GCJ-02, the server converts), pick on the map, the searchable category picker,
// the duplicate prompt, and reports kept in IndexedDB while offline, sent when the network returns.
(function () {
  "use strict";
  var S = {};
  try { S = JSON.parse(document.getElementById("m-strings").textContent); } catch (e) { S = {}; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = meta ? meta.content : "";
  var RECEIPTS = "cityops.receipts";
  var $ = function (id) { return document.getElementById(id); };

  function headers(json) {
    var h = {};
    if (json) h["Content-Type"] = "application/json";
    if (CSRF) h["X-CSRF-Token"] = CSRF;
    return h;
  }
  // A photo preview as a data: URL (the pages' CSP allows data: images, not blob:).
  function preview(img, file) {
    var r = new FileReader();
    r.onload = function () { img.src = r.result; img.hidden = false; };
    r.readAsDataURL(file);
  }
  function status(text, kind) {
    var el = $("m-status");
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || "";
    el.className = "m-note" + (kind ? " " + kind : "");
  }

  // ---- IndexedDB queue of reports made offline -------------------------------------------
  function db() {
    return new Promise(function (ok, fail) {
      if (!window.indexedDB) { fail(new Error("no IndexedDB")); return; }
      var r = indexedDB.open("cityops-phone", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore("queue", { keyPath: "id", autoIncrement: true }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { fail(r.error); };
    });
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var t = d.transaction("queue", mode);
        var out = fn(t.objectStore("queue"));
        t.oncomplete = function () { ok(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  function enqueue(item) { return tx("readwrite", function (s) { return s.add(item); }); }
  function queued() { return tx("readonly", function (s) { return s.getAll(); }); }
  function dequeue(id) { return tx("readwrite", function (s) { return s.delete(id); }); }

  function receipts() {
    try { return JSON.parse(localStorage.getItem(RECEIPTS) || "[]"); } catch (e) { return []; }
  }
  function remember(code, token) {
    var all = receipts().filter(function (r) { return r.code !== code; });
    all.unshift({ code: code, token: token, at: new Date().toISOString() });
    localStorage.setItem(RECEIPTS, JSON.stringify(all.slice(0, 50)));
  }

  // ---- Sending a report ------------------------------------------------------------------
  function NetworkError(e) { this.cause = e; }
  function send(url, opts) {
    return fetch(url, opts).catch(function (e) { throw new NetworkError(e); }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var err = new Error(body.message || r.status); err.body = body; throw err; }
        return body;
      });
    });
  }
  function upload(isPublic, blob) {
    if (!blob) return Promise.resolve(null);
    var fd = new FormData();
    fd.append("file", blob, blob.name || "photo.jpg");
    return send(isPublic ? "/api/v1/public/attachments" : "/api/v1/attachments",
      { method: "POST", headers: headers(false), body: fd, credentials: "same-origin" })
      .then(function (a) { return a.id; });
  }
  function deliver(item) {
    return upload(item.public, item.photo).then(function (photoId) {
      var body = Object.assign({}, item.payload);
      body.attachments = photoId ? [photoId] : [];
      return send(item.public ? "/api/v1/public/reports" : "/api/v1/cases",
        { method: "POST", headers: headers(true), body: JSON.stringify(body), credentials: "same-origin" });
    });
  }
  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return Promise.resolve();
    flushing = true;
    return queued().then(function (items) {
      var sent = 0;
      return items.reduce(function (p, item) {
        return p.then(function () {
          return deliver(item).then(function (answer) {
            if (item.public && answer.token) remember(answer.code, answer.token);
            sent += 1;
            return dequeue(item.id);
          }, function (e) {
            // Refused by the server (not a network failure): drop it, say so.
            if (!(e instanceof NetworkError)) { status(S.report_failed + "：" + e.message, "err"); return dequeue(item.id); }
          });
        });
      }, Promise.resolve()).then(function () { if (sent) status(S.queued_sent, "ok"); });
    }).catch(function () {}).then(function () { flushing = false; showQueue(); });
  }
  function showQueue() {
    var el = $("m-queue-count");
    queued().then(function (items) {
      if (el) el.textContent = String(items.length);
      if (items.length && $("m-report")) status(items.length + " " + S.queue_waiting);
    }).catch(function () {});
  }
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });

  // ---- The report page -------------------------------------------------------------------
  var form = $("m-report");
  if (form) {
    var isPublic = form.dataset.public === "1";
    var photo = null;
    var map = null, marker = null;
    $("m-photo").addEventListener("change", function () {
      photo = this.files && this.files[0] ? this.files[0] : null;
      var img = $("m-photo-preview");
      if (photo) { preview(img, photo); $("m-photo-label").textContent = S.photo_change; }
    });
    function setPoint(lng, lat, crs, how) {
      $("m-lng").value = lng.toFixed(6);
      $("m-lat").value = lat.toFixed(6);
      if (crs) $("m-crs").value = crs;
      $("m-loc-text").textContent = (how || S.located) + " " + lng.toFixed(5) + ", " + lat.toFixed(5);
      nearby();
    }
    $("m-locate").addEventListener("click", function () {
      if (!navigator.geolocation) { $("m-loc-text").textContent = S.locate_failed; return; }
      $("m-loc-text").textContent = S.locating;
      navigator.geolocation.getCurrentPosition(function (p) {
        // Standard browsers give WGS84; a platform that gives GCJ-02 opens the page with ?crs=gcj02.
        setPoint(p.coords.longitude, p.coords.latitude, null);
      }, function () { $("m-loc-text").textContent = S.locate_failed; showMap(); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
    function showMap() {
      var el = $("m-map");
      el.hidden = false;
      if (map || !window.L) return;
      var lng = parseFloat($("m-lng").value) || 114.416, lat = parseFloat($("m-lat").value) || 23.111;
      map = L.map(el, { zoomControl: true, attributionControl: false }).setView([lat, lng], 14);
      fetch("/ui/layers/street.geojson", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (g) { if (g) L.geoJSON(g, { style: { color: "#64748b", weight: 1, fill: false } }).addTo(map); }).catch(function () {});
      map.on("click", function (e) {
        if (marker) marker.setLatLng(e.latlng); else marker = L.circleMarker(e.latlng, { radius: 9, color: "#1d4ed8" }).addTo(map);
        // The map shows WGS84 (the boundaries are stored so).
        setPoint(e.latlng.lng, e.latlng.lat, "wgs84", S.map_hint);
      });
    }
    $("m-pick").addEventListener("click", showMap);

    var search = $("m-cat-search"), list = $("m-cat-list");
    var buttons = Array.prototype.slice.call(list.querySelectorAll("button"));
    function filter() {
      var q = search.value.trim().toLowerCase(), shown = 0;
      buttons.forEach(function (b) {
        var hit = !q || b.dataset.search.toLowerCase().indexOf(q) >= 0;
        b.parentNode.hidden = !hit || shown >= 60;
        if (hit) shown += 1;
      });
      $("m-cat-none").hidden = shown > 0;
    }
    search.addEventListener("input", filter);
    filter();
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        buttons.forEach(function (x) { x.setAttribute("aria-selected", "false"); });
        b.setAttribute("aria-selected", "true");
        $("m-cat").value = b.dataset.code;
        $("m-cat").dataset.kind = b.dataset.kind;
        $("m-cat-chosen").textContent = S.category_chosen + "：" + b.textContent;
        nearby();
      });
    });
    function nearby() {
      var box = $("m-nearby");
      if (isPublic || !$("m-cat").value || !$("m-lng").value || !navigator.onLine) { box.innerHTML = ""; return; }
      var u = "/m/nearby?lng=" + $("m-lng").value + "&lat=" + $("m-lat").value + "&crs=" + $("m-crs").value + "&category=" + $("m-cat").value;
      fetch(u, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { box.innerHTML = html; }).catch(function () {});
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var lng = parseFloat($("m-lng").value), lat = parseFloat($("m-lat").value);
      var desc = $("m-desc").value.trim();
      if (isNaN(lng) || isNaN(lat)) { status(S.need_location, "err"); return; }
      if (!isPublic && !$("m-cat").value) { status(S.need_category, "err"); return; }
      if (!desc && !photo) { status(S.need_text_or_photo, "err"); return; }
      var payload = { lng: lng, lat: lat, crs: $("m-crs").value, description: desc };
      if ($("m-cat").value) { payload.category_code = $("m-cat").value; payload.category_kind = $("m-cat").dataset.kind; }
      var addr = $("m-address").value.trim();
      if (addr) payload.address = addr;
      if (isPublic) {
        var n = $("m-name").value.trim(), ph = $("m-phone").value.trim();
        if (n) payload.name = n;
        if (ph) payload.phone = ph;
      }
      var item = { public: isPublic, payload: payload, photo: photo, at: Date.now() };
      var btn = $("m-submit");
      btn.disabled = true;
      status(S.sending);
      var keep = function () {
        return enqueue(item).then(function () { status(S.saved_offline, "ok"); form.reset(); }, function () { status(S.report_failed, "err"); });
      };
      var go = navigator.onLine ? deliver(item).then(function (answer) {
        if (isPublic) {
          $("m-report-wrap").hidden = true;
          status("");
          $("m-receipt").hidden = false;
          $("m-receipt-code").textContent = answer.code;
          $("m-receipt-token").textContent = answer.token;
          $("m-receipt-follow").href = "/m/follow?code=" + encodeURIComponent(answer.code);
          $("m-remember").onclick = function () { remember(answer.code, answer.token); this.textContent = S.receipt_remembered; this.disabled = true; };
        } else {
          status(S.reported + " " + answer.code, "ok");
          form.reset(); photo = null; $("m-photo-preview").hidden = true; $("m-cat").value = ""; $("m-nearby").innerHTML = "";
        }
      }, function (e) {
        if (e instanceof NetworkError) return keep();
        status(S.report_failed + "：" + e.message, "err");
      }) : keep();
      go.then(function () { btn.disabled = false; });
    });
  }

  // ---- Tasks: the after photo of a handling is uploaded first, its id goes with the form ---
  Array.prototype.forEach.call(document.querySelectorAll(".m-handle"), function (f) {
    var input = f.querySelector(".m-after-file"), hidden = f.querySelector(".m-after-id"), img = f.querySelector(".m-photo img");
    var pending = null;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      preview(img, file);
      pending = upload(false, file).then(function (id) { hidden.value = id; pending = null; },
        function (e) { pending = null; alert(S.report_failed + "：" + e.message); });
    });
    f.addEventListener("submit", function (ev) {
      if (pending) { ev.preventDefault(); pending.then(function () { f.submit(); }); }
    });
  });

  // ---- Me: the receipts kept on this phone ------------------------------------------------
  var saved = $("m-saved");
  if (saved) {
    var all = receipts();
    if (!all.length) { var li = document.createElement("li"); li.textContent = S.me_saved_none; saved.appendChild(li); }
    all.forEach(function (r) {
      var li = document.createElement("li");
      var f = document.createElement("form");
      f.method = "post"; f.action = "/m/follow";
      [["code", r.code], ["token", r.token]].forEach(function (kv) {
        var i = document.createElement("input"); i.type = "hidden"; i.name = kv[0]; i.value = kv[1]; f.appendChild(i);
      });
      var b = document.createElement("button"); b.type = "submit"; b.className = "m-btn"; b.textContent = r.code + " · " + S.follow_submit;
      f.appendChild(b); li.appendChild(f); saved.appendChild(li);
    });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch(function () {});
  }
  showQueue();
  flush();
})();
