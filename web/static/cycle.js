// gusu: describes a file chosen for an objection (name, type, size, SHA-256) in the form's
// fields. The file itself is not sent: only its description is kept. Needs the browser's
// crypto.subtle (HTTPS or localhost); without it the fields are filled by hand.
document.querySelectorAll("input[type=file][data-describe]").forEach(function (input) {
  input.addEventListener("change", async function () {
    var file = input.files && input.files[0];
    if (!file) return;
    var set = function (id, value) { var el = document.getElementById(id); if (el) el.value = value; };
    set("attachment-name", file.name);
    set("attachment-type", file.type || "application/octet-stream");
    set("attachment-size", String(file.size));
    if (window.crypto && window.crypto.subtle) {
      var digest = await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer());
      set("attachment-sha256", Array.from(new Uint8Array(digest))
        .map(function (b) { return b.toString(16).padStart(2, "0"); }).join(""));
    }
  });
});
