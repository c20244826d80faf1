/* 省/市/区 cascading selects. The page lists the current choice's options already; this
   fills the next select when one changes, from the bundled division tree served by this
   site (GET /api/v1/regions, cached), so it needs no outside network. */
(function () {
  "use strict";
  function fill(select, items, keep) {
    var first = select.options[0];
    select.innerHTML = "";
    select.appendChild(first);
    (items || []).forEach(function (item) {
      var option = document.createElement("option");
      option.value = item[1];
      option.textContent = item[1];
      option.dataset.code = item[0];
      if (item[1] === keep) option.selected = true;
      select.appendChild(option);
    });
    select.disabled = !items || !items.length;
  }
  function find(items, name) {
    return (items || []).find(function (item) { return item[1] === name; });
  }
  function init(root) {
    var province = root.querySelector("[data-region=province]");
    var city = root.querySelector("[data-region=city]");
    var district = root.querySelector("[data-region=district]");
    var tree = null;
    function cities() {
      var p = find(tree, province.value);
      return p ? p[2] : [];
    }
    function districts() {
      var c = find(cities(), city.value);
      return c ? c[2] : [];
    }
    fetch(root.dataset.regionsUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        tree = data;
        province.addEventListener("change", function () {
          fill(city, cities(), "");
          fill(district, [], "");
        });
        city.addEventListener("change", function () { fill(district, districts(), ""); });
        root.dataset.ready = "1";
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-region-picker]").forEach(init);
  });
})();
