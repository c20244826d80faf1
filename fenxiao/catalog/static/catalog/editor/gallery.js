/* The product gallery: saved pictures and newly chosen files as thumbnails; drag to
   reorder (HTML5 drag and drop), × to remove, the first is the cover. The hidden input
   posts the order as tokens: "id:<pk>" for a saved picture, "new:<i>" for the i-th file
   of the file input, which holds exactly the files still shown. */
(function () {
  "use strict";
  var gettext = window.gettext || function (s) { return s; };

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var input = root.querySelector("input[type=hidden]");
    var list = root.querySelector("[data-thumbs]");
    var fileInput = root.querySelector("[data-files]");
    var chosen = []; // File objects still shown, in the file input in this order
    var dragged = null;

    function sync() {
      var tokens = [];
      list.querySelectorAll("li").forEach(function (li) {
        if (li.dataset.token) tokens.push(li.dataset.token);
        else tokens.push("new:" + chosen.indexOf(li.file));
      });
      input.value = JSON.stringify(tokens);
      if (window.DataTransfer) {
        var transfer = new DataTransfer();
        chosen.forEach(function (file) { transfer.items.add(file); });
        fileInput.files = transfer.files;
      }
    }

    function wire(li) {
      li.addEventListener("dragstart", function (event) {
        dragged = li;
        li.classList.add("fx-dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", "thumb");
      });
      li.addEventListener("dragend", function () {
        li.classList.remove("fx-dragging");
        dragged = null;
        sync();
      });
      li.addEventListener("dragover", function (event) {
        if (!dragged || dragged === li) return;
        event.preventDefault();
        var box = li.getBoundingClientRect();
        var after = event.clientX > box.left + box.width / 2;
        list.insertBefore(dragged, after ? li.nextSibling : li);
      });
      li.addEventListener("drop", function (event) { event.preventDefault(); sync(); });
      var del = li.querySelector("[data-delete]");
      del.addEventListener("click", function () {
        if (li.file) chosen.splice(chosen.indexOf(li.file), 1);
        li.remove();
        sync();
      });
    }

    list.querySelectorAll("li").forEach(wire);

    fileInput.addEventListener("change", function () {
      var added = Array.prototype.slice.call(fileInput.files || []);
      added.forEach(function (file) {
        if (chosen.indexOf(file) >= 0) return;
        chosen.push(file);
        var li = document.createElement("li");
        li.className = "fx-thumb fx-thumb-new";
        li.draggable = true;
        li.file = file;
        var img = document.createElement("img");
        img.alt = "";
        img.src = URL.createObjectURL(file);
        var cover = document.createElement("span");
        cover.className = "fx-cover";
        cover.textContent = gettext("封面");
        var del = document.createElement("button");
        del.type = "button";
        del.className = "fx-thumb-del";
        del.setAttribute("data-delete", "1");
        del.title = gettext("删除这张图片");
        del.textContent = "×";
        li.appendChild(img);
        li.appendChild(cover);
        li.appendChild(del);
        list.appendChild(li);
        wire(li);
      });
      sync();
    });
    sync();
  }

  function init() { document.querySelectorAll("[data-gallery]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
