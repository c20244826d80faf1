/* A region row added with "再添加一个" gets the same searchable province select as the
   rows the page came with (unfold only sets up those present at load). */
"use strict";
document.addEventListener("formset:added", function (event) {
  var $ = window.django && window.django.jQuery;
  if ($ && $.fn.djangoCustomSelect2) {
    $(event.target).find(".unfold-admin-autocomplete").djangoCustomSelect2();
  }
});
