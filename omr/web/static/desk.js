// The review desk's keyboard and picture controls. No data is kept here but the
// name of the person deciding (in this browser's local storage).
"use strict";
(function () {
  function typing(el) {
    if (!el) return false;
    if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    if (el.tagName !== "INPUT") return false;
    return !["radio", "checkbox", "submit", "button"].includes(el.type);
  }
  function plain(e) {
    return !(e.ctrlKey || e.metaKey || e.altKey);
  }

  function queuePage() {
    const rows = Array.from(document.querySelectorAll("tr[data-href]"));
    if (!rows.length) return;
    let at = 0;
    function select(n) {
      rows[at].classList.remove("current");
      at = Math.max(0, Math.min(rows.length - 1, n));
      rows[at].classList.add("current");
      rows[at].scrollIntoView({ block: "nearest" });
    }
    select(0);
    rows.forEach(function (row, i) {
      row.addEventListener("click", function (e) {
        if (e.target.tagName !== "A") location.href = row.dataset.href;
      });
      row.addEventListener("mouseenter", function () { select(i); });
    });
    document.addEventListener("keydown", function (e) {
      if (typing(document.activeElement) || !plain(e)) return;
      if (e.key === "j" || e.key === "ArrowDown" || e.key === "n") { select(at + 1); e.preventDefault(); }
      else if (e.key === "k" || e.key === "ArrowUp" || e.key === "p") { select(at - 1); e.preventDefault(); }
      else if (e.key === "Enter" || e.key === "o") { location.href = rows[at].dataset.href; e.preventDefault(); }
    });
  }

  function viewer() {
    const img = document.getElementById("page-img");
    if (!img) return {};
    let zoom = 2;
    function setZoom(n) {
      img.classList.remove("zoom-" + zoom);
      zoom = Math.max(0, Math.min(5, n));
      img.classList.add("zoom-" + zoom);
    }
    function toggle() {
      img.src = img.src.indexOf("/image/scan") >= 0 ? img.dataset.annotated : img.dataset.scan;
    }
    document.getElementById("zoom-in").addEventListener("click", function () { setZoom(zoom + 1); });
    document.getElementById("zoom-out").addEventListener("click", function () { setZoom(zoom - 1); });
    document.getElementById("toggle").addEventListener("click", toggle);
    img.addEventListener("dblclick", function () { setZoom(zoom >= 4 ? 2 : zoom + 2); });
    return { zoomIn: function () { setZoom(zoom + 1); }, zoomOut: function () { setZoom(zoom - 1); }, toggle: toggle };
  }

  function sheetPage() {
    const view = viewer();
    const form = document.getElementById("decide");
    if (!form) return;
    const fields = Array.from(form.querySelectorAll(".decide-field"));
    const by = document.getElementById("by");
    const why = document.getElementById("why");
    try {
      if (!by.value) by.value = localStorage.getItem("omr.by") || "";
    } catch (err) { /* storage refused: type the name */ }
    form.addEventListener("submit", function () {
      try { localStorage.setItem("omr.by", by.value); } catch (err) { /* ignore */ }
    });
    let active = 0;
    function activate(n) {
      fields.forEach(function (f) { f.classList.remove("active"); });
      active = n;
      if (n >= 0 && n < fields.length) fields[n].classList.add("active");
    }
    function afterChoice(i) {
      // the next field still in doubt; the whole-sheet field is only chosen by hand
      const next = i + 1;
      if (next < fields.length && !fields[next].classList.contains("whole")) {
        activate(next);
      } else {
        activate(-1);
        (by.value ? why : by).focus();
      }
    }
    function choose(i, button) {
      const f = fields[i];
      f.querySelector(".value").value = button.dataset.value;
      f.querySelectorAll(".option").forEach(function (b) { b.classList.toggle("chosen", b === button); });
      afterChoice(i);
    }
    fields.forEach(function (f, i) {
      f.querySelectorAll(".option").forEach(function (b) {
        b.addEventListener("click", function () { choose(i, b); });
      });
      const input = f.querySelector(".value");
      input.addEventListener("focus", function () { activate(i); });
    });
    const first = fields.findIndex(function (f) { return !f.classList.contains("whole"); });
    activate(first >= 0 ? first : 0);
    if (fields[active] && !fields[active].querySelector(".option")) {
      fields[active].querySelector(".value").focus();
    }
    document.addEventListener("keydown", function (e) {
      const el = document.activeElement;
      if (typing(el)) {
        if (e.key === "Escape") { el.blur(); e.preventDefault(); }
        return;
      }
      if (!plain(e)) return;
      const key = e.key.toLowerCase();
      if (active >= 0 && fields[active]) {
        const button = Array.from(fields[active].querySelectorAll(".option")).find(function (b) {
          return b.dataset.key === key;
        });
        if (button) { choose(active, button); e.preventDefault(); return; }
      }
      if (key === "n" && document.getElementById("next")) { location.href = document.getElementById("next").href; }
      else if (key === "p" && document.getElementById("prev")) { location.href = document.getElementById("prev").href; }
      else if (key === "+" || key === "]") { view.zoomIn && view.zoomIn(); }
      else if (key === "[") { view.zoomOut && view.zoomOut(); }
      else if (key === "o") { view.toggle && view.toggle(); }
      else if (key === "enter") { form.requestSubmit(); }
      else return;
      e.preventDefault();
    });
  }

  const page = document.body.dataset.page;
  if (page === "queue") queuePage();
  else if (page === "sheet") sheetPage();
})();
