// The language switch (中文版 / English) leads to the same page in the other language, at the same section:
// both editions have the same sections in the same order (tools/i18n.py checks the heading levels), so the
// n-th section here is the n-th there. The link carries "#section-n"; the page it opens scrolls there.
(function () {
  function sections() {
    return Array.from(document.querySelectorAll("article section[id]"));
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.lang-switch") : null;
    if (!link) return;
    var current = -1;
    sections().forEach(function (s, i) { if (s.getBoundingClientRect().top <= 100) current = i; });
    if (current > 0) {
      event.preventDefault();
      window.location.href = link.href.split("#")[0] + "#section-" + current;
    }
  });
  window.addEventListener("load", function () {
    var m = window.location.hash.match(/^#section-(\d+)$/);
    if (!m) return;
    var target = sections()[Number(m[1])];
    if (target) target.scrollIntoView();
  });
})();
