// Offers only the certifying levels that may award the chosen stars on the chosen signing date
// (the dated rule table of catalog.certification, sent by the page). The server checks again on submit.
(function () {
  "use strict";
  var form = document.querySelector("form.certificate-form[data-certifying-rights]");
  if (!form) return;
  var periods = JSON.parse(form.getAttribute("data-certifying-rights"));
  var stars = form.querySelector("select[name=stars]");
  var level = form.querySelector("select[name=level]");
  var signed = form.querySelector("input[name=issued_on]");

  function rightsOn(day) {
    var current = null;
    periods.forEach(function (period) { if (period.starts_on <= day) current = period; });
    return current ? current.rights : {};
  }

  function offerAllowedLevels() {
    if (!signed.value) return;
    var rights = rightsOn(signed.value);
    var wanted = parseInt(stars.value, 10);
    var firstAllowed = null;
    Array.prototype.forEach.call(level.options, function (option) {
      var allowed = (rights[option.value] || []).indexOf(wanted) !== -1;
      option.disabled = !allowed;
      if (allowed && firstAllowed === null) firstAllowed = option;
    });
    if (level.selectedOptions[0] && level.selectedOptions[0].disabled && firstAllowed) firstAllowed.selected = true;
  }

  stars.addEventListener("change", offerAllowedLevels);
  signed.addEventListener("change", offerAllowedLevels);
  offerAllowedLevels();
})();
