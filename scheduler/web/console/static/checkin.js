// Check-in by camera: the phone takes a photo of the member's code; it is made small here (a
// phone photo is megabytes, a code needs a few hundred pixels) and the form is sent with it.
// Without this script the camera form stays hidden (a full-size photo is more than the server
// takes) and staff find the person by name instead.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form || !window.DataTransfer) { return; }
  form.classList.remove("needs-script");
  var note = document.getElementById("no-script");
  if (note) { note.hidden = true; }
  var input = form.querySelector("input[type=file]");
  var longest = parseInt(form.getAttribute("data-max"), 10) || 1280;

  function sendWith(file) {
    var files = new DataTransfer();
    files.items.add(file);
    input.files = files.files;
    form.submit();
  }

  input.addEventListener("change", function () {
    var taken = input.files && input.files[0];
    if (!taken) { return; }
    var url = URL.createObjectURL(taken);
    var image = new Image();
    image.onload = function () {
      var scale = Math.min(1, longest / Math.max(image.width, image.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(image.width * scale);
      canvas.height = Math.round(image.height * scale);
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob(function (small) {
        sendWith(new File([small], "code.jpg", { type: "image/jpeg" }));
      }, "image/jpeg", 0.9);
    };
    image.onerror = function () { URL.revokeObjectURL(url); sendWith(taken); };
    image.src = url;
  });
})();
