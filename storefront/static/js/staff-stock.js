// Outlet stock forms. Receive: the best-before field is required for products that spoil and hidden for
// those that have none (data-best-before on each product option). Counter sale: the lot list offers only the
// chosen product's lots. The server checks both again on submit.
(function () {
  "use strict";

  var receive = document.querySelector("form.receive-form");
  if (receive) {
    var product = receive.querySelector("select[name=product_id]");
    var bestBefore = receive.querySelector("input[name=best_before]");
    var applyBestBeforeRule = function () {
      var option = product.selectedOptions[0];
      var spoils = !option || option.getAttribute("data-best-before") !== "0";
      bestBefore.required = spoils;
      bestBefore.disabled = !spoils;  // a disabled field is not sent: the server sees no best-before date
      bestBefore.closest(".field").hidden = !spoils;
      if (!spoils) bestBefore.value = "";
    };
    product.addEventListener("change", applyBestBeforeRule);
    // Going back to the page, the browser restores the chosen product after this script ran, without a change event.
    window.addEventListener("pageshow", applyBestBeforeRule);
    applyBestBeforeRule();
  }

  var sale = document.querySelector("form.sale-form");
  if (sale) {
    var saleProduct = sale.querySelector("select[name=product_id]");
    var lot = sale.querySelector("select[name=batch_id]");
    var offerProductLots = function () {
      Array.prototype.forEach.call(lot.querySelectorAll("optgroup"), function (group) {
        var options = group.querySelectorAll("option");
        var mine = options.length > 0 && options[0].getAttribute("data-product") === saleProduct.value;
        group.hidden = !mine;
        group.disabled = !mine;
      });
      var chosen = lot.selectedOptions[0];
      if (chosen && chosen.parentNode.disabled) lot.value = "0";
    };
    saleProduct.addEventListener("change", offerProductLots);
    window.addEventListener("pageshow", offerProductLots);
    offerProductLots();
  }
})();
