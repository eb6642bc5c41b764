/* The quote form's live totals and product picker. Display only: the deal prices the quote.
   Amounts are computed exactly, in BigInt at a decimal scale, by the rule of domain/quotes.py:
   per line gross = price x qty, discount = gross x pct / 100, tax = net x rate / 100, each
   rounded once, half away from zero, to the currency's minor unit. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("catalogue-data").textContent);
  var form = document.getElementById("quote-form");
  var body = document.querySelector("#quote-lines tbody");
  var currency = document.getElementById("currency");

  // A decimal string as {n: BigInt, s: scale}; null when it is not a number.
  function dec(text) {
    var t = String(text || "").trim();
    if (!/^\d+(\.\d+)?$/.test(t)) { return null; }
    var parts = t.split(".");
    var frac = parts[1] || "";
    return { n: BigInt(parts[0] + frac), s: frac.length };
  }
  function pow10(k) { return BigInt(10) ** BigInt(k); }
  // n at scale s, rounded half away from zero to scale m (all values here are >= 0).
  function round(n, s, m) {
    if (s <= m) { return n * pow10(m - s); }
    var d = pow10(s - m);
    return (n * BigInt(2) + d) / (BigInt(2) * d);
  }
  function show(n, m) {
    var text = n.toString().padStart(m + 1, "0");
    return m ? text.slice(0, -m) + "." + text.slice(-m) : text;
  }
  function product(sku, cur) {
    return data.products.find(function (p) { return p.sku === sku && p.currency === cur; });
  }

  function line(row, cur, m) {
    var p = product(row.querySelector(".sku").value, cur);
    var qty = dec(row.querySelector(".qty").value);
    var pct = dec(row.querySelector(".pct").value || "0");
    var isSub = p && p.kind === "subscription";
    row.querySelector(".period").disabled = !isSub;
    row.querySelector(".renew").disabled = !isSub;
    if (!p || !qty || !pct) { row.querySelector(".net").textContent = ""; return null; }
    var price = dec(p.unit_price), rate = dec(p.tax_rate);
    var gross = round(price.n * qty.n, price.s + qty.s, m);
    var discount = round(gross * pct.n, m + pct.s + 2, m);
    var net = gross - discount;
    var tax = round(net * rate.n, m + rate.s + 2, m);
    row.querySelector(".net").textContent = show(net, m) + " " + cur;
    return { gross: gross, discount: discount, net: net, tax: tax };
  }

  function filterProducts(cur) {
    body.querySelectorAll("select.sku option[data-currency]").forEach(function (o) {
      o.hidden = o.dataset.currency !== cur;
      if (o.hidden && o.selected) { o.selected = false; }
    });
  }

  function recompute() {
    var cur = currency.value, m = data.minor_units[cur] === undefined ? 2 : data.minor_units[cur];
    var sum = { gross: 0n, discount: 0n, net: 0n, tax: 0n };
    body.querySelectorAll("tr.quote-line").forEach(function (row) {
      var l = line(row, cur, m);
      if (!l) { return; }
      ["gross", "discount", "net", "tax"].forEach(function (k) { sum[k] += l[k]; });
    });
    document.getElementById("total-gross").textContent = show(sum.gross, m) + " " + cur;
    document.getElementById("total-discount").textContent = show(sum.discount, m) + " " + cur;
    document.getElementById("total-net").textContent = show(sum.net, m) + " " + cur;
    document.getElementById("total-tax").textContent = show(sum.tax, m) + " " + cur;
    document.getElementById("total-total").textContent = show(sum.net + sum.tax, m) + " " + cur;
  }

  var add = document.getElementById("add-line");
  add.hidden = false;
  add.addEventListener("click", function () {
    var i = body.querySelectorAll("tr.quote-line").length;
    var html = document.getElementById("quote-line-template").innerHTML
      .replace(/__i__/g, String(i)).replace(/__n__/g, String(i + 1));
    body.insertAdjacentHTML("beforeend", html);
    filterProducts(currency.value);
    body.querySelector("#lines-" + i + "-sku").focus();
  });
  currency.addEventListener("change", function () { filterProducts(currency.value); recompute(); });
  form.addEventListener("input", recompute);
  form.addEventListener("change", recompute);
  filterProducts(currency.value);
  recompute();
  form.dataset.ready = "true";
}());
