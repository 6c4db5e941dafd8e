// 附近公厕/公园 (/m/places): asks the browser for its position and lists the nearest places of the
// chosen type from GET /api/v1/public/nearby; the server rendered the city centre's list first,
// which stays (with a note) when the position is refused or unavailable. The type tabs switch
// without reloading once a position is known. No library: plain DOM, text only (no innerHTML).
(function () {
  "use strict";
  var root = document.getElementById("m-places");
  if (!root) return;
  var S = {};
  try { S = JSON.parse(document.getElementById("m-places-strings").textContent); } catch (e) { S = {}; }
  var $ = function (id) { return document.getElementById(id); };
  var list = $("m-places-list"), note = $("m-places-note"), relocate = $("m-places-relocate");
  var type = root.getAttribute("data-type") || "toilet";
  // Standard browsers give WGS84; a wrapper app whose positions are GCJ-02 opens the page with ?crs=gcj02.
  var crs = root.getAttribute("data-crs") || "wgs84";
  var here = null; // {lng, lat} of the browser, once known
  var seq = 0;

  function say(text, error) {
    note.textContent = text || "";
    note.hidden = !text;
    note.className = "m-note" + (error ? " err" : "");
  }
  function distance(m) {
    m = Math.max(0, Math.round(m));
    if (m < 1000) return (S.metres || "{n} m").replace("{n}", String(m));
    return (S.kilometres || "{km} km").replace("{km}", (m / 1000).toFixed(1));
  }
  function walk(item) {
    var dir = (S.compass && S.compass[item.direction]) || item.direction;
    return (S.walk || "{distance} {dir}").replace("{dir}", dir).replace("{distance}", distance(item.distance_m));
  }
  function line(cls, text) {
    var d = document.createElement("div");
    d.className = cls;
    d.textContent = text;
    return d;
  }
  function render(items) {
    while (list.firstChild) list.removeChild(list.firstChild);
    items.forEach(function (it) {
      var li = document.createElement("li");
      li.className = "m-place";
      var head = document.createElement("div");
      head.className = "m-place-head";
      var name = document.createElement("strong");
      name.textContent = it.name;
      head.appendChild(name);
      li.appendChild(head);
      li.appendChild(line("m-place-walk", walk(it)));
      if (it.opening_hours) li.appendChild(line("m-sub", S.opening_hours + S.colon + it.opening_hours));
      if (it.address) li.appendChild(line("m-sub", S.address + S.colon + it.address));
      if (it.note) li.appendChild(line("m-sub", it.note));
      var a = document.createElement("a");
      a.className = "m-btn";
      a.href = it.geo_uri;
      a.textContent = S.open_in_map;
      li.appendChild(a);
      list.appendChild(li);
    });
  }
  function search() {
    if (!here) return;
    var mine = ++seq;
    say(S.loading);
    var url = "/api/v1/public/nearby?type=" + encodeURIComponent(type) + "&lng=" + here.lng + "&lat=" + here.lat +
      "&crs=" + encodeURIComponent(crs) + "&limit=20";
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    }).then(function (res) {
      if (mine !== seq) return;
      if (!res.ok) { say(res.status === 429 ? S.too_many : S.lookup_failed, true); return; }
      var items = res.body.items || [];
      render(items);
      say(items.length ? S.located : S.located + " " + S.nothing_near);
    }).catch(function () {
      if (mine === seq) say(S.lookup_failed, true);
    });
  }
  function locate() {
    if (!navigator.geolocation) { say(S.no_geolocation); return; }
    say(S.locating);
    navigator.geolocation.getCurrentPosition(function (p) {
      here = { lng: p.coords.longitude, lat: p.coords.latitude };
      relocate.hidden = false;
      search();
    }, function () {
      relocate.hidden = false;
      say(S.locate_failed);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  // The tabs: plain links (the server renders each type); with a position, switch in place.
  Array.prototype.forEach.call(root.querySelectorAll(".m-seg a[data-type]"), function (a) {
    a.addEventListener("click", function (e) {
      if (!here) return;
      e.preventDefault();
      type = a.getAttribute("data-type");
      Array.prototype.forEach.call(root.querySelectorAll(".m-seg a"), function (b) {
        var on = b === a;
        b.classList.toggle("active", on);
        if (on) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
      });
      root.setAttribute("data-type", type);
      if (window.history && history.replaceState) history.replaceState(null, "", "/m/places?type=" + encodeURIComponent(type));
      search();
    });
  });
  relocate.addEventListener("click", locate);
  // A page opened for a given point keeps it; otherwise look for where the citizen stands.
  if (root.getAttribute("data-given") !== "1") locate();
})();
