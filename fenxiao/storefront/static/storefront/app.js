/* Small progressive enhancements; every page works without them. */

// Django's JavaScript catalog (/jsi18n/) is loaded only for a language other than Chinese,
// the source language; without it the texts stay as written.
var gettext = window.gettext || function (s) { return s; };
var interpolate = window.interpolate || function (fmt, obj, named) {
  if (named) {
    return fmt.replace(/%\(\w+\)s/g, function (match) { return String(obj[match.slice(2, -2)]); });
  }
  return fmt.replace(/%s/g, function () { return String(obj.shift()); });
};

(function () {
  "use strict";

  // SKU picker: choosing spec values selects the matching SKU, its price and stock.
  function initSkuPicker(root) {
    var data = JSON.parse(document.getElementById("sku-data").textContent);
    var skuInput = root.querySelector("[name=sku]");
    var priceEl = document.querySelector("[data-sku-price]");
    var stockEl = document.querySelector("[data-sku-stock]");
    var strikeEl = document.querySelector("[data-sku-strike]");
    var groupLink = document.querySelector("[data-group-link]");
    var buttons = document.querySelectorAll("[data-needs-sku]");
    var gallery = document.querySelector(".gallery");
    // Picking a value with a 规格图 (颜色) turns the gallery to that picture.
    function showPicture(id) {
      if (!gallery || !id) return;
      var pictures = Array.prototype.slice.call(gallery.querySelectorAll("[data-picture-id]"));
      var index = pictures.findIndex(function (img) { return img.dataset.pictureId === String(id); });
      if (index >= 0) gallery.scrollTo({ left: index * gallery.clientWidth, behavior: "smooth" });
    }
    function chosen() {
      var specs = {};
      root.querySelectorAll("input[type=radio]:checked").forEach(function (input) {
        specs[input.dataset.spec] = input.value;
      });
      return specs;
    }
    function update() {
      var specs = chosen();
      var match = data.find(function (sku) {
        return Object.keys(sku.specs).every(function (k) { return specs[k] === sku.specs[k]; });
      });
      skuInput.value = match ? match.id : "";
      if (match) {
        // In a flash sale the SKU's flash price shows, its own price struck through.
        var shown = match.flash || match.price;
        var struck = match.flash ? match.price : (match.list_price > match.price ? match.list_price : 0);
        priceEl.textContent = yuan(shown);
        if (strikeEl) {
          strikeEl.hidden = !struck;
          strikeEl.textContent = struck ? yuan(struck) : "";
        }
        stockEl.textContent = match.stock > 0 ? interpolate(gettext("库存 %(stock)s 件"), { stock: match.stock }, true) : gettext("暂时缺货");
        if (groupLink && match.group) {
          groupLink.href = "/checkout/?sku=" + match.id + "&qty=1&group=" + groupLink.dataset.groupPromotion;
          groupLink.textContent = interpolate(gettext("发起拼团 %(price)s"), { price: yuan(match.group) }, true);
        }
      }
      // A SKU the flash sale covers while its flash stock is gone (or the buyer's limit is
      // reached) stays disabled: checkout would refuse it (the page says why). Specs not
      // all chosen yet leave the buttons live: a tap says which to choose (below), where a
      // greyed button that did nothing left the buyer guessing.
      buttons.forEach(function (b) { b.disabled = !!match && (match.stock <= 0 || match.refused); });
    }
    function missing() {
      var specs = chosen();
      var names = [];
      root.querySelectorAll("fieldset.spec-group input[type=radio]").forEach(function (input) {
        var name = input.dataset.spec;
        if (!(name in specs) && names.indexOf(name) < 0) names.push(name);
      });
      return names;
    }
    // Capturing on the document runs before htmx's own click listener on the button.
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-needs-sku]");
      if (!button || skuInput.value) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      var names = missing();
      toast(names.length ? interpolate(gettext("请选择 %(specs)s"), { specs: names.join(gettext("、")) }, true) : gettext("该规格暂不可售，请选择其他规格"));
      var first = root.querySelector("fieldset.spec-group");
      if (first) first.scrollIntoView({ behavior: "smooth", block: "center" });
    }, true);
    root.addEventListener("change", function (event) {
      update();
      if (event.target.dataset && event.target.dataset.picture) showPicture(event.target.dataset.picture);
    });
    update();
  }

  function initQuantity(root) {
    root.querySelectorAll("[data-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = root.querySelector("input");
        var next = (parseInt(input.value, 10) || 1) + parseInt(button.dataset.step, 10);
        input.value = Math.max(1, Math.min(999, next));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  function initCopy(button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copy);
      target.select();
      var done = function () { button.textContent = gettext("已复制"); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(target.value).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else {
        document.execCommand("copy"); done();
      }
    });
  }

  // The same toast the server sends (partials/toast.html), for words the page says itself.
  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.innerHTML = "";
    var inner = document.createElement("div");
    inner.className = "toast error";
    inner.setAttribute("role", "status");
    inner.textContent = message;
    box.appendChild(inner);
  }

  function yuan(fen) {
    var text = (Math.abs(fen) / 100).toFixed(2);
    return (fen < 0 ? "-¥" : "¥") + text;
  }

  function clock(seconds) {
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var text = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor(rest % 3600 / 60)) + ":" + pad(rest % 60);
    return days ? interpolate(gettext("%(days)s天 %(time)s"), { days: days, time: text }, true) : text;
  }

  // Flash sale and group countdowns. They count by the server's clock (the body's data-now,
  // sent with the page: the offset taken here holds for countdowns swapped in later too) so
  // a phone set to the wrong time still shows the right figure; at zero the page reloads
  // once, and the server shows the offer's next state (started, or ended).
  var clockOffset = (parseInt(document.body.dataset.now, 10) - Date.now()) || 0;
  var countdowns = [];
  var reloading = false;
  function tick() {
    var now = Date.now() + clockOffset;
    countdowns.forEach(function (entry) {
      var left = Math.max(0, Math.ceil((entry.until - now) / 1000));
      entry.clock.textContent = clock(left);
      if (left === 0 && !reloading) {
        reloading = true;
        setTimeout(function () { window.location.reload(); }, 1000);
      }
    });
  }
  function initCountdown(el) {
    if (el.dataset.ticking) return;
    el.dataset.ticking = "1";
    countdowns.push({
      clock: el.querySelector("[data-countdown-clock]"),
      until: parseInt(el.dataset.until, 10),
    });
    if (countdowns.length === 1) setInterval(tick, 1000);
    tick();
  }

  // Cart: the total and the checkout button follow the ticked lines.
  function initCartSelection(form) {
    if (form.dataset.summing) return;
    form.dataset.summing = "1";
    function update() {
      // Looked up each time: the summary is swapped when the server re-prices it.
      var total = form.querySelector("[data-testid=cart-total]");
      var submit = form.querySelector("[data-checkout-link]");
      var sum = 0;
      var count = 0;
      form.querySelectorAll("input[name=line]:checked").forEach(function (input) {
        sum += parseInt(input.dataset.subtotal, 10) || 0;
        count += 1;
      });
      total.textContent = yuan(sum);
      submit.disabled = count === 0;
    }
    // The page comes with the server's total (after 满减); the sum here bridges the moment
    // until the re-priced cart arrives.
    form.addEventListener("change", update);
  }

  // Checkout: "使用余额" shows what store credit pays and what is left for the gateway.
  function initWallet(section) {
    var toggle = section.querySelector("input[name=use_wallet]");
    var line = section.querySelector("[data-wallet-line]");
    var due = document.querySelector("[data-testid=checkout-due]");
    var total = parseInt(section.dataset.total, 10) || 0;
    var usable = parseInt(section.dataset.usable, 10) || 0;
    function update() {
      line.hidden = !toggle.checked;
      due.textContent = yuan(toggle.checked ? total - usable : total);
    }
    toggle.addEventListener("change", update);
    update();
  }

  // 提交订单: one tap, one post. The button stays disabled while the order is placed (the
  // server also recognises a second post of the same form); back on this page from the
  // browser's page cache, it is live again.
  function initSubmitOnce(form) {
    if (form.dataset.submitOnceWired) return;
    form.dataset.submitOnceWired = "1";
    var sending = false;
    var buttons = form.querySelectorAll("button[type=submit]");
    form.addEventListener("submit", function (event) {
      if (sending) { event.preventDefault(); return; }
      sending = true;
      // Disabled after this event: a button disabled during it would cancel the post.
      setTimeout(function () {
        buttons.forEach(function (b) {
          if (!b.disabled) { b.disabled = true; b.dataset.sending = "1"; }
        });
      }, 0);
    });
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      sending = false;
      buttons.forEach(function (b) {
        if (b.dataset.sending) { b.disabled = false; delete b.dataset.sending; }
      });
    });
  }

  // 买家留言 outlives 确认订单's own reloads (choosing another address, coupon, store or tab
  // reloads the page, which came back with the note empty): kept in this tab for these
  // goods, and forgotten once an order is placed.
  var NOTE_PREFIX = "checkout-note:";
  function noteStore() {
    try { return window.sessionStorage || null; } catch (error) { return null; }
  }
  function initKeepNote(input) {
    var store = noteStore();
    if (!store || input.dataset.keeping) return;
    input.dataset.keeping = "1";
    var key = NOTE_PREFIX + input.dataset.keepNote;
    if (!input.value) input.value = store.getItem(key) || "";
    input.addEventListener("input", function () {
      try { store.setItem(key, input.value); } catch (error) { /* full, or refused */ }
    });
  }
  function forgetNotes() {
    var store = noteStore();
    if (!store) return;
    for (var i = store.length - 1; i >= 0; i -= 1) {
      var key = store.key(i);
      if (key && key.indexOf(NOTE_PREFIX) === 0) store.removeItem(key);
    }
  }

  // Checkout, 到店自提: "按距离排序" asks the browser for the buyer's location and reloads the
  // store list with it (nearest first); refused or unavailable, the list stays as it is.
  function initLocate(button) {
    var status = document.querySelector("[data-locate-status]");
    button.addEventListener("click", function () {
      if (!navigator.geolocation) {
        if (status) status.textContent = gettext("当前浏览器不支持定位");
        return;
      }
      if (status) status.textContent = gettext("正在定位…");
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          var href = button.dataset.href + "&lat=" + pos.coords.latitude.toFixed(6) + "&lng=" + pos.coords.longitude.toFixed(6);
          location.assign(href);
        },
        function () { if (status) status.textContent = gettext("未能获取位置，门店按默认顺序排列"); },
        { timeout: 10000, maximumAge: 300000 }
      );
    });
  }

  // Register: after a code is sent, "获取验证码" waits out the resend interval.
  function initSmsCountdown(notice) {
    var button = document.querySelector("[data-sms-send]");
    var left = parseInt(notice.dataset.resendAfter, 10) || 0;
    if (!button || left <= 0) return;
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.disabled = true;
    var timer = setInterval(function () {
      left -= 1;
      button.textContent = left > 0 ? interpolate(gettext("%(seconds)s 秒后重发"), { seconds: left }, true) : label;
      if (left <= 0) { button.disabled = false; clearInterval(timer); }
    }, 1000);
    button.textContent = interpolate(gettext("%(seconds)s 秒后重发"), { seconds: left }, true);
  }

  // An action that cannot be undone (取消订单, 确认收货) asks first: its form names the
  // dialog (data-confirm) the page rendered for it. Without JavaScript the form posts as is.
  function closeConfirm(dialog) {
    if (dialog.hidden) return;
    dialog.hidden = true;
    if (dialog.opener) dialog.opener.focus();
  }
  function wireConfirm(dialog) {
    if (dialog.dataset.wired) return;
    dialog.dataset.wired = "1";
    var ok = dialog.querySelector("[data-confirm-ok]");
    dialog.querySelector("[data-confirm-cancel]").addEventListener("click", function () { closeConfirm(dialog); });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) closeConfirm(dialog);
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") closeConfirm(dialog);
    });
    ok.addEventListener("click", function () {
      ok.disabled = true;  // one tap, one request
      dialog.opener = null;
      dialog.form.submit();  // submit() skips the submit event: no second dialog
    });
    // Back from the next page (the browser's page cache): the dialog is closed again.
    window.addEventListener("pageshow", function () {
      ok.disabled = false;
      dialog.hidden = true;
    });
  }
  function initConfirm(form) {
    var dialog = document.getElementById(form.dataset.confirm);
    if (!dialog || form.dataset.confirming) return;
    form.dataset.confirming = "1";
    wireConfirm(dialog);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      dialog.form = form;  // one dialog may serve several forms: the last one opened
      dialog.opener = document.activeElement;
      dialog.hidden = false;
      dialog.querySelector("[data-confirm-cancel]").focus();
    });
  }

  // Withdraw form: only the fields the chosen payout method asks for show (a bank card asks
  // for the bank, the mall balance for nothing). Without JavaScript every field shows.
  function initPayoutFields(form) {
    // 全部提现: shown only where this script runs to fill the amount in.
    var fill = form.querySelector("[data-fill-amount]");
    if (fill) {
      form.querySelector("[data-fill-row]").hidden = false;
      fill.addEventListener("click", function () {
        var amount = form.querySelector("input[name=amount]");
        amount.value = fill.dataset.fillAmount;
        amount.focus();
      });
    }
    var select = form.querySelector("select[name=method]");
    if (!select) return;
    // 收款账号 names the chosen method's account alone (银行卡号), and a card number gets the
    // digit keypad; the page as sent names every account the shop's methods take.
    var accountLabel = form.querySelector("[data-account-labels]");
    var labels = accountLabel ? JSON.parse(accountLabel.dataset.accountLabels) : {};
    var account = form.querySelector("input[name=account]");
    function update() {
      form.querySelectorAll("[data-methods]").forEach(function (field) {
        field.hidden = field.dataset.methods.split(" ").indexOf(select.value) < 0;
      });
      if (labels[select.value]) accountLabel.textContent = labels[select.value];
      if (account) account.inputMode = select.value === "bank" ? "numeric" : "text";
    }
    select.addEventListener("change", update);
    update();
  }

  function init(root) {
    root.querySelectorAll("[data-sku-picker]").forEach(initSkuPicker);
    root.querySelectorAll("[data-quantity]").forEach(initQuantity);
    root.querySelectorAll("[data-copy]").forEach(initCopy);
    root.querySelectorAll("[data-cart-form]").forEach(initCartSelection);
    root.querySelectorAll("[data-wallet]").forEach(initWallet);
    root.querySelectorAll("form[data-submit-once]").forEach(initSubmitOnce);
    if (root.querySelector("[data-order-placed]")) forgetNotes();
    root.querySelectorAll("input[data-keep-note]").forEach(initKeepNote);
    root.querySelectorAll("[data-locate]").forEach(initLocate);
    root.querySelectorAll("[data-resend-after]").forEach(initSmsCountdown);
    root.querySelectorAll("form[data-confirm]").forEach(initConfirm);
    root.querySelectorAll("form[data-payout-form]").forEach(initPayoutFields);
    // The group page ticks its own countdown (data-countdown without data-until).
    root.querySelectorAll("[data-countdown][data-until]").forEach(initCountdown);
  }

  // An active distributor's page carries their code in the address bar, so sharing it from
  // WeChat's own menu, or copying the address, shares their referral (ShareLinkMiddleware).
  function markShared() {
    var code = document.body.dataset.shareRef;
    if (!code || !window.history.replaceState) return;
    var url = new URL(window.location.href);
    if (url.searchParams.get("ref") === code) return;
    url.searchParams.set("ref", code);
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }

  // WeChat's JS-SDK, configured with the signature the server gave this page's address
  // (`data`: sdk, config) for `apis`; `ready(wx)` runs once it is, `failed()` otherwise.
  function withWechatSdk(data, apis, ready, failed) {
    var script = document.createElement("script");
    script.src = data.sdk;
    script.onerror = failed;
    script.onload = function () {
      var wx = window.wx;
      if (!wx) { failed(); return; }
      wx.config({
        debug: false,
        appId: data.config.appId,
        timestamp: data.config.timestamp,
        nonceStr: data.config.nonceStr,
        signature: data.config.signature,
        jsApiList: apis
      });
      wx.ready(function () { ready(wx); });
      wx.error(failed);
    };
    document.head.appendChild(script);
  }

  // In WeChat, a page with a share card sets what 发送给朋友 and 分享到朋友圈 show, through
  // the JS-SDK (loaded here, so a slow download holds nothing up). The address bar is marked
  // for sharing only afterwards: the signature is for the address the page came by.
  // Whatever happens, `then` runs once, at the latest after a few seconds.
  function initWechatShare(then) {
    var data = document.getElementById("wx-share");
    if (!data) { then(); return; }
    var done = false;
    function once() { if (!done) { done = true; then(); } }
    setTimeout(once, 3000);
    try {
      var share = JSON.parse(data.textContent);
      var card = share.card;
      withWechatSdk(share, ["updateAppMessageShareData", "updateTimelineShareData"], function (wx) {
        wx.updateAppMessageShareData({ title: card.title, desc: card.desc, link: card.link, imgUrl: card.imgUrl });
        wx.updateTimelineShareData({ title: card.timelineTitle, link: card.link, imgUrl: card.imgUrl });
        once();
      }, once);
    } catch (error) {
      once();
    }
  }

  // A withdrawal paid by WeChat 商家转账 reaches 微信零钱 once the distributor confirms
  // receipt in WeChat: 确认收款 opens WeChat's own confirmation with the transfer's package,
  // then tells the server (its form), which asks WeChat Pay how the transfer ended.
  function initMerchantTransfer() {
    var buttons = document.querySelectorAll("[data-transfer-package]");
    var data = document.getElementById("wx-transfer");
    if (!buttons.length || !data) return;
    var transfer = JSON.parse(data.textContent);
    withWechatSdk(transfer, ["requestMerchantTransfer"], function () {
      buttons.forEach(function (button) {
        button.disabled = false;
        button.addEventListener("click", function (event) {
          event.preventDefault();
          window.WeixinJSBridge.invoke("requestMerchantTransfer", {
            mchId: transfer.mchId,
            appId: transfer.config.appId,
            package: button.dataset.transferPackage
          }, function (res) {
            if (res.err_msg === "requestMerchantTransfer:ok") button.form.submit();
          });
        });
      });
    }, function () {});
  }

  // A tab bar wider than the phone (我的订单, 佣金明细 at 320 px) scrolls sideways; a page
  // opened on a tab past the edge (已取消) scrolls it into view, else no tab looked chosen.
  function revealActiveTabs() {
    document.querySelectorAll(".tabs").forEach(function (bar) {
      var active = bar.querySelector("a.active");
      if (!active || bar.scrollWidth <= bar.clientWidth) return;
      var left = active.offsetLeft - bar.offsetLeft;
      if (left >= bar.scrollLeft && left + active.offsetWidth <= bar.scrollLeft + bar.clientWidth) return;
      bar.scrollLeft = left - (bar.clientWidth - active.offsetWidth) / 2;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    revealActiveTabs();
    initWechatShare(markShared);
    initMerchantTransfer();
  });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
