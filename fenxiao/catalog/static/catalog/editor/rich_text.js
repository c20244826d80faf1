/* The product description editor: Quill on top of the form's textarea.
   The textarea stays the field that is posted; Quill's HTML is copied into it on every
   change. Pictures are uploaded to the staff-only endpoint and inserted as <img src>. */
(function () {
  "use strict";
  var gettext = window.gettext || function (s) { return s; };

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setup(root) {
    if (root.dataset.ready || typeof window.Quill === "undefined") return;
    root.dataset.ready = "1";
    var textarea = root.querySelector("textarea");
    var holder = root.querySelector("[data-editor]");
    var status = root.querySelector("[data-status]");
    var hint = status ? status.textContent : "";
    textarea.hidden = true;

    var quill = new window.Quill(holder, {
      theme: "snow",
      placeholder: gettext("介绍商品的卖点、材质、尺码、售后……"),
      modules: {
        toolbar: {
          container: [
            [{ header: [2, 3, false] }],
            ["bold", "italic", "underline", "strike"],
            [{ list: "ordered" }, { list: "bullet" }, "blockquote"],
            [{ align: [] }],
            ["link", "image"],
            ["clean"],
          ],
          handlers: { image: pickImage },
        },
      },
    });
    var titles = {
      "ql-bold": gettext("加粗"), "ql-italic": gettext("斜体"), "ql-underline": gettext("下划线"), "ql-strike": gettext("删除线"),
      "ql-blockquote": gettext("引用"), "ql-link": gettext("插入链接"), "ql-image": gettext("插入图片"), "ql-clean": gettext("清除格式"),
    };
    root.querySelectorAll(".ql-toolbar button").forEach(function (button) {
      Object.keys(titles).forEach(function (cls) { if (button.classList.contains(cls)) button.title = titles[cls]; });
      if (button.classList.contains("ql-list")) button.title = button.value === "ordered" ? gettext("编号列表") : gettext("项目符号列表");
    });
    var linkBox = root.querySelector(".ql-tooltip input[type=text]");
    if (linkBox) linkBox.setAttribute("data-link", "https://");
    if (textarea.value.trim()) {
      quill.clipboard.dangerouslyPasteHTML(textarea.value, "silent");
    }

    function copyOut() {
      // Quill's semantic HTML writes every space as &nbsp;, which would stop long English
      // lines from wrapping on a phone; plain spaces are what the storefront wants.
      var html = quill.getLength() > 1 ? quill.getSemanticHTML().replace(/&nbsp;/g, " ") : "";
      textarea.value = html;
    }
    // Only an edit rewrites the field: Quill reads the stored HTML into its own model and
    // writes back what it models, so a save that never touched the description would still
    // turn table header cells (<th>) into plain ones and log 已修改商品详情.
    quill.on("text-change", copyOut);

    function say(text, isError) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle("fx-error", !!isError);
    }

    function pickImage() {
      var input = document.createElement("input");
      input.type = "file";
      input.accept = "image/jpeg,image/png,image/gif,image/webp";
      input.addEventListener("change", function () {
        if (input.files && input.files[0]) upload(input.files[0]);
      });
      input.click();
    }

    function upload(file) {
      var body = new FormData();
      body.append("image", file);
      say(gettext("图片上传中……"));
      fetch(root.dataset.uploadUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea.form) },
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) throw new Error(data.message || gettext("图片上传失败"));
            return data;
          });
        })
        .then(function (data) {
          var range = quill.getSelection(true);
          var at = range ? range.index : quill.getLength();
          quill.insertEmbed(at, "image", data.url, "user");
          quill.setSelection(at + 1, 0);
          say(hint);
        })
        .catch(function (error) {
          say(error.message || gettext("图片上传失败"), true);
        });
    }
    root.quill = quill;
  }

  function init() {
    document.querySelectorAll("[data-rich-text]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
