// 码上办 (/m/o/{code}): the self-check and inspection forms — a failing item opens its note and
// photo; each photo is uploaded at once (POST /api/v1/attachments, the server strips metadata) and
// its id becomes a hidden `p.{item}` field; the phone's position (WGS84) fills `lng`/`lat`; a
// failing item that needs a photo without one stops the submit with a message. The form posts
// without JavaScript too (then without photos or position).
(function () {
  "use strict";
  var form = document.getElementById("m-check");
  if (!form) return;
  var S = {};
  try { S = JSON.parse(document.getElementById("m-object-strings").textContent); } catch (e) { S = {}; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = meta ? meta.content : "";
  var pending = 0;

  function failing(item) {
    var r = item.querySelector('input[type=radio][value=fail]');
    return r && r.checked;
  }
  Array.prototype.forEach.call(form.querySelectorAll(".m-item"), function (item) {
    var box = item.querySelector(".m-fail-box");
    item.addEventListener("change", function (ev) {
      if (ev.target.type === "radio") box.hidden = !failing(item);
    });
  });

  form.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input.classList || !input.classList.contains("m-item-file")) return;
    var code = input.getAttribute("data-item");
    var list = input.parentNode.querySelector(".m-item-photos");
    Array.prototype.forEach.call(input.files || [], function (file) {
      var status = document.createElement("span");
      status.className = "m-sub";
      status.textContent = (S.uploading || "…") + " " + file.name;
      list.appendChild(status);
      pending += 1;
      var body = new FormData();
      body.append("file", file, file.name || "photo.jpg");
      fetch("/api/v1/attachments", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": CSRF, "Accept": "application/json" }, body: body
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) throw new Error(j.message || ("HTTP " + r.status));
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = "p." + code; hidden.value = j.id;
          var img = document.createElement("img");
          img.src = "/api/v1/attachments/" + j.id + "/thumb";
          img.alt = file.name;
          status.replaceWith(hidden);
          list.appendChild(img);
        });
      }).catch(function (e) {
        status.textContent = (S.upload_failed || "") + e.message;
        status.className = "m-note err";
      }).then(function () { pending -= 1; });
    });
    input.value = "";
  });

  // The phone's position, asked at once (the scan is where the label is).
  var where = document.getElementById("m-check-where");
  var again = document.getElementById("m-check-locate");
  function locate() {
    if (!navigator.geolocation) { where.textContent = S.locate_failed || ""; return; }
    where.textContent = S.locating || "";
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById("m-check-lng").value = p.coords.longitude.toFixed(7);
      document.getElementById("m-check-lat").value = p.coords.latitude.toFixed(7);
      where.textContent = (S.located || "") + " " + p.coords.longitude.toFixed(5) + ", " + p.coords.latitude.toFixed(5);
      where.setAttribute("data-located", "1");
      again.hidden = false;
    }, function () {
      where.textContent = S.locate_failed || "";
      again.hidden = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }
  again.addEventListener("click", locate);
  locate();

  var error = document.getElementById("m-check-error");
  form.addEventListener("submit", function (ev) {
    if (pending > 0) { ev.preventDefault(); setTimeout(function () { form.requestSubmit(); }, 300); return; }
    var missing = [];
    Array.prototype.forEach.call(form.querySelectorAll(".m-item[data-photo-required]"), function (item) {
      var code = item.getAttribute("data-item");
      if (failing(item) && !form.querySelector('input[type=hidden][name="p.' + code + '"]')) missing.push(code);
    });
    if (missing.length) {
      ev.preventDefault();
      error.hidden = false;
      error.textContent = (S.need_photo || "") + missing.join("、");
      error.scrollIntoView({ block: "center" });
      return;
    }
    document.getElementById("m-check-submit").disabled = true;
  });
})();
