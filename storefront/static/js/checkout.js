// Checkout: show only the part of the form for the chosen way to receive the order (pickup outlets or the
// delivery address), and refresh the commune list when the province changes, by asking the checkout page
// itself for it. Receipt: hand the buyer on to Stripe's hosted payment page (data-forward-to). Without
// scripts every part stays visible, the "update communes" button reloads the list, and the link hands on.
(function () {
  "use strict";

  var forward = document.querySelector("[data-forward-to]");
  if (forward) {
    // replace(): going back from Stripe lands on the page before, not on this hand-off again.
    window.location.replace(forward.getAttribute("data-forward-to"));
    return;
  }

  var form = document.querySelector("form.checkout-form");
  if (!form) return;

  var parts = form.querySelectorAll("[data-fulfilment]");
  var showChosenPart = function () {
    var chosen = form.querySelector("input[name=fulfilment]:checked");
    Array.prototype.forEach.call(parts, function (part) {
      part.hidden = !!chosen && part.getAttribute("data-fulfilment") !== chosen.value;
    });
  };
  Array.prototype.forEach.call(form.querySelectorAll("input[name=fulfilment]"), function (radio) {
    radio.addEventListener("change", showChosenPart);
  });
  window.addEventListener("pageshow", showChosenPart);
  showChosenPart();

  var province = form.querySelector("select[data-communes-from]");
  var commune = form.querySelector("select[name=commune]");
  var refresh = form.querySelector(".refresh-communes");
  if (!province || !commune || !window.fetch || !window.DOMParser) return;
  // With the list refreshed as the province changes, the button is not needed; removed (not hidden) so that
  // Enter in a field submits the order, not the refresh.
  if (refresh) refresh.parentNode.removeChild(refresh);
  province.addEventListener("change", function () {
    var url = province.getAttribute("data-communes-from") + "?tinh=" + encodeURIComponent(province.value);
    commune.disabled = true;
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("select[name=commune]");
        if (!fresh) return;
        // The delivery fee and totals depend on the province too.
        var mine = document.querySelectorAll("[data-follows-province]");
        var theirs = page.querySelectorAll("[data-follows-province]");
        Array.prototype.forEach.call(mine, function (element, index) {
          if (theirs[index]) element.textContent = theirs[index].textContent;
        });
        commune.innerHTML = "";
        Array.prototype.forEach.call(fresh.options, function (option) {
          commune.appendChild(new Option(option.text, option.value));
        });
      })
      .catch(function () { /* the server checks the commune on submit and says so under the field */ })
      .then(function () { commune.disabled = false; });
  });
})();
