// Progressive behaviour for gait ui: every page works without it.
"use strict";
(function () {
  var tokenMeta = document.querySelector('meta[name="gait-token"]');
  var token = tokenMeta ? tokenMeta.getAttribute("content") : "";

  // Diff form: exactly two runs.
  var diffForm = document.getElementById("diff-form");
  if (diffForm) {
    diffForm.addEventListener("submit", function (e) {
      var n = diffForm.querySelectorAll('input[name="run"]:checked').length;
      if (n !== 2) {
        e.preventDefault();
        alert("Pick exactly two runs to compare (" + n + " picked).");
      }
    });
  }

  // Where to look after a guided step: the run it wrote or the regress view.
  function showNext(json, command) {
    var next = document.getElementById("exec-next");
    if (!next) return;
    next.textContent = "";
    var path = json.bundle || json.runpack_path || json.path || "";
    path = path.replace(/^\.\//, "");
    var link = null;
    if (/\.zip$/.test(path)) {
      link = document.createElement("a");
      link.href = "/run?path=" + encodeURIComponent(path);
      link.textContent = "Open the run " + path;
    } else if (command === "regress_run") {
      link = document.createElement("a");
      link.href = "/regress";
      link.textContent = "Open the regress view";
    }
    if (link) next.appendChild(link);
  }

  // Guided flows: run through POST /api/exec and show the answer in place.
  var status = document.getElementById("exec-status");
  var output = document.getElementById("exec-output");
  document.querySelectorAll("form[data-flow]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var args = {};
      ["run_id", "policy_path", "intent_path"].forEach(function (k) {
        var el = form.elements[k];
        if (el && el.value) args[k] = el.value;
      });
      var command = form.getAttribute("data-flow");
      button.disabled = true;
      status.textContent = "Running " + command + "…";
      fetch("/api/exec", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Gait-Token": token },
        body: JSON.stringify({ command: command, args: args })
      }).then(function (resp) {
        return resp.json();
      }).then(function (res) {
        status.textContent = command + ": exit " + res.exit_code + (res.ok ? " (ok)" : "");
        var text = res.json ? JSON.stringify(res.json, null, 2) : (res.stdout || "");
        if (res.error) text = res.error + "\n" + text;
        if (res.stderr) text += "\n" + res.stderr;
        output.textContent = text;
        output.setAttribute("data-command", command);
        showNext(res.json || {}, command);
      }).catch(function (err) {
        status.textContent = command + ": " + err;
      }).finally(function () {
        button.disabled = false;
      });
    });
  });
})();
