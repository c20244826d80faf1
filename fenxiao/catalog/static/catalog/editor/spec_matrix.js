/* The spec matrix: spec names with value tags → one row per combination (cartesian
   product), each with price, list price, stock, SKU code and weight; a bulk row sets a
   column for every row at once. Each value of the first spec (颜色) may take one of the
   product's saved pictures as its 规格图, which every row with that value carries. The whole
   state lives as JSON in the hidden input, which is what the form posts; the server checks
   everything again. */
(function () {
  "use strict";
  var gettext = window.gettext || function (s) { return s; };
  var interpolate = window.interpolate || function (fmt, args) { var i = 0; return fmt.replace(/%s/g, function () { return args[i++]; }); };
  var MAX_SPECS = 3;
  var COLUMNS = [
    { key: "price", label: gettext("售价（元）"), required: true, placeholder: "0.00", mode: "decimal" },
    { key: "list_price", label: gettext("划线价（元）"), placeholder: gettext("选填"), mode: "decimal" },
    { key: "stock", label: gettext("库存"), placeholder: "0", mode: "numeric" },
    { key: "code", label: gettext("SKU编码"), placeholder: gettext("留空自动生成"), mode: "text" },
    { key: "weight_grams", label: gettext("重量（克）"), placeholder: "0", mode: "numeric" },
  ];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function keyOf(specs) {
    return Object.keys(specs).sort().map(function (k) { return k + "\u0001" + specs[k]; }).join("\u0002");
  }

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var input = root.querySelector("input[type=hidden]");
    var state;
    try { state = JSON.parse(input.value || "{}"); } catch (e) { state = {}; }
    var specs = (state.specs || []).map(function (s) {
      return { name: String(s.name || ""), values: (s.values || []).map(String) };
    });
    var rows = {};
    (state.rows || []).forEach(function (row) { rows[keyOf(row.specs || {})] = row; });
    // The saved gallery pictures a value can take: [{id, url}].
    var pictures = [];
    try { pictures = JSON.parse(root.dataset.pictures || "[]"); } catch (e) { pictures = []; }
    var pictureUrl = {};
    pictures.forEach(function (p) { pictureUrl[p.id] = p.url; });
    // 规格图 by value of the first spec, read from the rows the page opened with.
    var pictureOf = {};
    if (specs.length) {
      (state.rows || []).forEach(function (row) {
        var value = (row.specs || {})[specs[0].name];
        if (value !== undefined && pictureUrl[row.image] && !pictureOf[value]) pictureOf[value] = row.image;
      });
    }
    var specsBox = root.querySelector("[data-specs]");
    var grid = root.querySelector("[data-grid]");
    var addSpec = root.querySelector("[data-add-spec]");

    function usable() {
      return specs.filter(function (s) { return s.name.trim() && s.values.length; });
    }

    function combinations() {
      var out = [{}];
      usable().forEach(function (spec) {
        var next = [];
        out.forEach(function (combo) {
          spec.values.forEach(function (value) {
            var c = Object.assign({}, combo);
            c[spec.name.trim()] = value;
            next.push(c);
          });
        });
        out = next;
      });
      return out;
    }

    function rowFor(combo) {
      var key = keyOf(combo);
      if (rows[key]) return rows[key];
      // A new combination starts from the row it grew out of (e.g. 红色 → 红色/M keeps
      // 红色's price), so adding a spec does not mean typing every price again.
      var parent = null;
      Object.keys(rows).forEach(function (k) {
        var r = rows[k];
        var names = Object.keys(r.specs || {});
        if (names.every(function (n) { return combo[n] === r.specs[n]; }) && (!parent || names.length > Object.keys(parent.specs).length)) parent = r;
      });
      rows[key] = {
        specs: combo,
        price: parent ? parent.price : "",
        list_price: parent ? parent.list_price : "",
        stock: 0,
        code: "",
        weight_grams: parent ? parent.weight_grams : 0,
      };
      return rows[key];
    }

    function firstName() {
      var first = usable()[0];
      return first ? first.name.trim() : null;
    }

    function sync() {
      var combos = combinations();
      var first = firstName();
      combos.forEach(function (combo) {
        rowFor(combo).image = first && pictureOf[combo[first]] ? pictureOf[combo[first]] : null;
      });
      input.value = JSON.stringify({
        specs: specs.map(function (s) { return { name: s.name.trim(), values: s.values }; }),
        rows: combos.map(rowFor),
      });
    }

    // Renaming keeps each row (and the SKU id it carries): the rows are re-keyed, not lost.
    function renameInRows(oldName, newName, oldValue, newValue) {
      var next = {};
      Object.keys(rows).forEach(function (key) {
        var row = rows[key];
        var specsNow = {};
        Object.keys(row.specs || {}).forEach(function (name) {
          var value = row.specs[name];
          if (name === oldName && (oldValue === undefined || value === oldValue)) {
            specsNow[newName] = newValue === undefined ? value : newValue;
          } else {
            specsNow[name] = value;
          }
        });
        row.specs = specsNow;
        next[keyOf(specsNow)] = row;
      });
      rows = next;
    }

    function addValue(spec, text) {
      text.split(/[,，;；\n]/).forEach(function (part) {
        var value = part.trim();
        if (value && spec.values.indexOf(value) < 0) spec.values.push(value);
      });
    }

    function drawSpecs() {
      specsBox.textContent = "";
      specs.forEach(function (spec, index) {
        var name = el("input", { type: "text", className: "fx-input fx-spec-name", placeholder: gettext("规格名，如 颜色"), maxlength: "20", value: spec.name, "aria-label": gettext("规格名") });
        name.addEventListener("input", function () {
          var before = spec.name.trim();
          spec.name = name.value;
          if (before && spec.name.trim() && before !== spec.name.trim()) renameInRows(before, spec.name.trim());
          drawGrid();
        });
        var tags = el("div", { className: "fx-tags" });
        spec.values.forEach(function (value, vi) {
          var remove = el("button", { type: "button", className: "fx-tag-del", title: gettext("删除"), text: "×" });
          remove.addEventListener("click", function () { spec.values.splice(vi, 1); drawSpecs(); drawGrid(); });
          var label = el("span", { text: value, title: gettext("双击修改") });
          label.addEventListener("dblclick", function () {
            var box = el("input", { type: "text", className: "fx-input fx-tag-edit", value: value, maxlength: "40", "aria-label": gettext("修改规格值") });
            var done = false;
            function finish(save) {
              if (done) return;
              done = true;
              var renamed = box.value.trim();
              if (save && renamed && renamed !== value && spec.values.indexOf(renamed) < 0) {
                spec.values[vi] = renamed;
                if (index === 0 && pictureOf[value]) { pictureOf[renamed] = pictureOf[value]; delete pictureOf[value]; }
                renameInRows(spec.name.trim(), spec.name.trim(), value, renamed);
              }
              drawSpecs();
              drawGrid();
            }
            box.addEventListener("keydown", function (event) {
              if (event.key === "Enter") { event.preventDefault(); finish(true); }
              if (event.key === "Escape") { event.preventDefault(); finish(false); }
            });
            box.addEventListener("blur", function () { finish(true); });
            label.replaceWith(box);
            box.focus();
            box.select();
          });
          var parts = [label, remove];
          if (index === 0 && pictures.length) parts.unshift(picturePicker(value));
          tags.appendChild(el("span", { className: "fx-tag" }, parts));
        });
        var valueInput = el("input", { type: "text", className: "fx-input fx-spec-value", placeholder: gettext("输入规格值后回车，如 红色"), maxlength: "40", "aria-label": gettext("规格值") });
        var addButton = el("button", { type: "button", className: "fx-btn fx-btn-small", text: gettext("添加") });
        function commit() {
          if (!valueInput.value.trim()) return;
          addValue(spec, valueInput.value);
          drawSpecs();
          drawGrid();
          var again = specsBox.querySelectorAll(".fx-spec-value")[index];
          if (again) again.focus();
        }
        valueInput.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === ",") { event.preventDefault(); commit(); }
        });
        addButton.addEventListener("click", commit);
        var drop = el("button", { type: "button", className: "fx-link-danger", text: gettext("删除规格") });
        drop.addEventListener("click", function () {
          if (index === 0) pictureOf = {}; // the pictures went with the first spec's values
          specs.splice(index, 1);
          drawSpecs();
          drawGrid();
        });
        var box = [
          el("div", { className: "fx-spec-head" }, [name, drop]),
          el("div", { className: "fx-spec-values" }, [tags, valueInput, addButton]),
        ];
        if (index === 0) {
          box.push(el("p", { className: "fx-hint", text: pictures.length
            ? gettext("点规格值前的图标，从已保存的商品图片中选一张规格图：买家选中这个规格时看到它。")
            : gettext("上传商品图片并保存后，可为这里的每个规格值选一张规格图。") }));
        }
        specsBox.appendChild(el("div", { className: "fx-spec" }, box));
      });
      addSpec.hidden = specs.length >= MAX_SPECS;
    }

    // A value's 规格图 button: its picture (or an empty square); a click lists the saved
    // pictures to choose from, and 不用图片.
    function picturePicker(value) {
      var chosen = pictureOf[value];
      var button = el("button", {
        type: "button", className: "fx-pic" + (chosen ? "" : " fx-pic-empty"), "data-picture-for": value,
        title: chosen ? gettext("更换规格图") : gettext("选择规格图"),
        "aria-label": interpolate(gettext("%s 的规格图"), [value]),
      }, chosen ? [el("img", { src: pictureUrl[chosen], alt: "" })] : [el("span", { text: "+" })]);
      button.addEventListener("click", function (event) {
        event.stopPropagation();
        var open = root.querySelector(".fx-pic-menu");
        if (open) { open.remove(); if (open.dataset.value === value) return; }
        var menu = el("div", { className: "fx-pic-menu", role: "menu" });
        menu.dataset.value = value;
        pictures.forEach(function (p) {
          var pick = el("button", { type: "button", className: "fx-pic-choice" + (p.id === chosen ? " fx-chosen" : ""), "data-picture": String(p.id), role: "menuitem" }, [el("img", { src: p.url, alt: "" })]);
          pick.addEventListener("click", function () { pictureOf[value] = p.id; menu.remove(); drawSpecs(); drawGrid(); });
          menu.appendChild(pick);
        });
        var none = el("button", { type: "button", className: "fx-btn fx-btn-small", text: gettext("不用图片"), role: "menuitem" });
        none.addEventListener("click", function () { delete pictureOf[value]; menu.remove(); drawSpecs(); drawGrid(); });
        menu.appendChild(none);
        button.parentNode.appendChild(menu);
      });
      return button;
    }
    document.addEventListener("click", function (event) {
      var open = root.querySelector(".fx-pic-menu");
      if (open && !open.contains(event.target)) open.remove();
    });

    function cell(row, column) {
      var value = row[column.key];
      var box = el("input", {
        type: "text", className: "fx-input", inputmode: column.mode, placeholder: column.placeholder || "",
        value: value === undefined || value === null ? "" : String(value), "data-col": column.key, "aria-label": column.label,
      });
      box.classList.add("fx-col-" + column.key);
      box.addEventListener("input", function () { row[column.key] = box.value.trim(); sync(); });
      return el("td", {}, [box]);
    }

    function drawGrid() {
      grid.textContent = "";
      var names = usable().map(function (s) { return s.name.trim(); });
      var head = el("tr", {}, names.map(function (n) { return el("th", { text: n }); }));
      if (!names.length) head.appendChild(el("th", { text: gettext("规格") }));
      COLUMNS.forEach(function (c) { head.appendChild(el("th", { text: c.label + (c.required ? " *" : "") })); });
      grid.appendChild(el("thead", {}, [head]));

      var body = el("tbody");
      var combos = combinations();
      // The bulk row: fill any column, press 批量设置, every row gets it.
      var bulk = el("tr", { className: "fx-bulk" });
      var apply = el("button", { type: "button", className: "fx-btn fx-btn-small", text: gettext("批量设置"), "data-bulk-apply": "1" });
      bulk.appendChild(el("td", { colspan: String(Math.max(names.length, 1)) }, [apply]));
      var bulkInputs = {};
      COLUMNS.forEach(function (c) {
        if (c.key === "code") { bulk.appendChild(el("td", { className: "fx-hint", text: gettext("填写后点“批量设置”") })); return; }
        var box = el("input", { type: "text", className: "fx-input", inputmode: c.mode, placeholder: c.label.replace(/\s*[（(].*[）)]/, ""), "data-bulk": c.key, "aria-label": interpolate(gettext("批量%s"), [c.label]) });
        bulkInputs[c.key] = box;
        bulk.appendChild(el("td", {}, [box]));
      });
      apply.addEventListener("click", function () {
        combos.forEach(function (combo) {
          var row = rowFor(combo);
          Object.keys(bulkInputs).forEach(function (key) {
            var v = bulkInputs[key].value.trim();
            if (v !== "") row[key] = v;
          });
        });
        drawGrid();
      });
      if (combos.length > 1) body.appendChild(bulk);

      combos.forEach(function (combo) {
        var row = rowFor(combo);
        var tr = el("tr", { "data-row": keyOf(combo) });
        if (!names.length) tr.appendChild(el("td", { text: gettext("默认规格") }));
        names.forEach(function (n, ni) {
          var td = el("td", { className: "fx-spec-cell", text: combo[n] });
          var picture = ni === 0 && pictureOf[combo[n]];
          if (picture) td.insertBefore(el("img", { className: "fx-spec-pic", src: pictureUrl[picture], alt: "" }), td.firstChild);
          tr.appendChild(td);
        });
        COLUMNS.forEach(function (c) { tr.appendChild(cell(row, c)); });
        body.appendChild(tr);
      });
      grid.appendChild(body);
      sync();
    }

    addSpec.addEventListener("click", function () {
      if (specs.length >= MAX_SPECS) return;
      specs.push({ name: "", values: [] });
      drawSpecs();
      drawGrid();
      var names = specsBox.querySelectorAll(".fx-spec-name");
      if (names.length) names[names.length - 1].focus();
    });
    // Enter in any matrix box must not submit the product form.
    root.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") event.preventDefault();
    });
    drawSpecs();
    drawGrid();
  }

  function init() { document.querySelectorAll("[data-spec-matrix]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
