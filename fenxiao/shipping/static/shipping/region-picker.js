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
  function init(root, url) {
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
    function listed(select, items) {
      var names = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
      return names.join("|") === items.map(function (item) { return item[1]; }).join("|");
    }
    // A choice made before this script ran (or before the tree arrived) is caught up with
    // once the tree is in; later choices wait for it.
    var ready = fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        tree = data;
        if (!listed(city, cities())) fill(city, cities(), city.value);
        if (!listed(district, districts())) fill(district, districts(), district.value);
        root.dataset.ready = "1";
      });
    province.addEventListener("change", function () {
      ready.then(function () {
        fill(city, cities(), "");
        fill(district, [], "");
      });
    });
    city.addEventListener("change", function () {
      ready.then(function () { fill(district, districts(), ""); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-region-picker]").forEach(function (root) {
      init(root, root.dataset.regionsUrl);
    });
    // A backend form puts each select in a row of its own: the form is the root, and the
    // province select carries the URL.
    document.querySelectorAll("select[data-region=province][data-regions-url]").forEach(function (select) {
      if (!select.closest("[data-region-picker]") && select.form) init(select.form, select.dataset.regionsUrl);
    });
  });
})();
