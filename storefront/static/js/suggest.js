// Product-name suggestions under a search box, as a WAI-ARIA 1.2 combobox (list autocomplete, manual selection).
// Enhances every <input data-suggest> inside a GET form; without this script the form simply searches.
// The page gives the API's address and the texts in data- attributes of this script's own tag, so they are
// translated with the rest of the page.
(function () {
  "use strict";

  var config = document.currentScript ? document.currentScript.dataset : {};

  var MIN_LETTERS = 3;
  var DELAY_MS = 150;
  var LETTER_OR_DIGIT = /[\p{L}\p{N}]/gu;

  // Vietnamese folding of one character, as the server does it: accents off, đ (and the look-alike Ð) to d.
  // Character by character, so that a match in the folded name points back at the same characters shown.
  function foldChar(ch) {
    var folded = ch.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
    return folded.replace(/[đð]/g, "d");
  }

  function foldWithMap(text) {
    var folded = "", origin = [];
    Array.from(text).forEach(function (ch, index) {
      var part = foldChar(ch);
      for (var i = 0; i < part.length; i += 1) origin.push(index);
      folded += part;
    });
    return { text: folded, origin: origin };
  }

  // Character ranges of `name` where a typed word starts a word of the name.
  function matchedRanges(name, typed) {
    var chars = Array.from(name);
    var haystack = foldWithMap(name);
    var ranges = [];
    foldWithMap(typed).text.split(/[^\p{L}\p{N}]+/u).forEach(function (word) {
      if (!word) return;
      var at = -1;
      do {
        at = haystack.text.indexOf(word, at + 1);
      } while (at > 0 && /[\p{L}\p{N}]/u.test(haystack.text[at - 1]));
      if (at < 0) return;
      var start = haystack.origin[at], end = haystack.origin[at + word.length - 1] + 1;
      if (!ranges.some(function (r) { return start < r[1] && r[0] < end; })) ranges.push([start, end]);
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    return { chars: chars, ranges: ranges };
  }

  function fillWithMatch(element, name, typed) {
    var found = matchedRanges(name, typed), shown = 0;
    found.ranges.forEach(function (range) {
      element.appendChild(document.createTextNode(found.chars.slice(shown, range[0]).join("")));
      var bold = document.createElement("b");
      bold.textContent = found.chars.slice(range[0], range[1]).join("");
      element.appendChild(bold);
      shown = range[1];
    });
    element.appendChild(document.createTextNode(found.chars.slice(shown).join("")));
  }

  function letterCount(text) {
    return (text.match(LETTER_OR_DIGIT) || []).length;
  }

  function enhance(input) {
    var form = input.form;
    if (!form || !config.url || !window.fetch || !window.AbortController) return;
    var listId = input.id + "-suggestions";
    var wrapper = input.parentNode;

    var listbox = document.createElement("ul");
    listbox.id = listId;
    listbox.className = "suggestions";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", config.label || "");
    listbox.hidden = true;
    wrapper.appendChild(listbox);

    // Screen readers hear how many suggestions came, since focus stays in the box.
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    wrapper.classList.add("is-enhanced");

    var timer = null, pending = null, active = -1, shownFor = null;

    function options() {
      return listbox.querySelectorAll('[role="option"]');
    }

    function cancel() {
      clearTimeout(timer);
      if (pending) pending.abort();
      pending = null;
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function announce(count) {
      var template = (count === 1 ? config.one : config.many) || "";
      status.textContent = count ? template.replace("{n}", String(count)) : "";
    }

    function show(names, typed) {
      listbox.textContent = "";
      names.forEach(function (name, index) {
        var option = document.createElement("li");
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-value", name);
        fillWithMatch(option, name, typed);
        listbox.appendChild(option);
      });
      shownFor = typed;
      active = -1;
      input.removeAttribute("aria-activedescendant");
      announce(names.length);
      if (names.length && document.activeElement === input) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
    }

    function moveTo(index) {
      var all = options();
      if (!all.length) return;
      if (active >= 0 && all[active]) all[active].setAttribute("aria-selected", "false");
      active = (index + all.length) % all.length;
      var option = all[active];
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function pick(option) {
      input.value = option.getAttribute("data-value");
      cancel();
      close();
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }

    function ask(typed) {
      cancel();
      var controller = new AbortController();
      pending = controller;
      var url = config.url + "?q=" + encodeURIComponent(typed);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (body) {
          if (pending !== controller) return;
          pending = null;
          show(Array.isArray(body.suggestions) ? body.suggestions : [], typed);
        })
        .catch(function () {
          // Aborted by newer typing, or the network failed: the box keeps working as a plain search.
          if (pending === controller) { pending = null; close(); }
        });
    }

    input.addEventListener("input", function () {
      var typed = input.value.trim();
      clearTimeout(timer);
      if (letterCount(typed) < MIN_LETTERS) {
        cancel();
        shownFor = null;
        announce(0);
        close();
        return;
      }
      timer = setTimeout(function () { ask(typed); }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.isComposing) return;
      var open = !listbox.hidden;
      switch (event.key) {
        case "ArrowDown":
        case "ArrowUp":
          if (!open) {
            // Reopen what was shown for the same words (after Escape, say).
            if (!options().length || shownFor !== input.value.trim()) return;
            listbox.hidden = false;
            input.setAttribute("aria-expanded", "true");
            if (event.altKey) { event.preventDefault(); return; }
          }
          event.preventDefault();
          moveTo(event.key === "ArrowDown" ? active + 1 : (active < 0 ? -1 : active - 1));
          break;
        case "Enter":
          if (open && active >= 0) {
            event.preventDefault();
            pick(options()[active]);
          } else {
            cancel();
            close();
          }
          break;
        case "Escape":
          if (open) {
            event.preventDefault();
            close();
          } else {
            cancel();
          }
          break;
        case "Tab":
          close();
          break;
      }
    });

    input.addEventListener("blur", function () {
      cancel();
      close();
    });

    // Keep the focus in the box while a finger or the mouse is on the list, so that blur does not close it
    // before the click lands.
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) pick(option);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), enhance);
})();
