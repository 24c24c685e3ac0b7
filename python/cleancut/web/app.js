"use strict";
// The page talks to POST /api/remove; everything else happens in the browser.
const $ = (id) => document.getElementById(id);
const ACCEPTED = ["image/jpeg", "image/png", "image/webp"];
let lastFile = null;
let urls = [];

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function hexToRgba(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, 255].join(",");
}

function query() {
  const params = new URLSearchParams();
  if ($("use-bg").checked) params.set("bgcolor", hexToRgba($("bg").value));
  if ($("ppm").checked) params.set("post_process_mask", "true");
  if ($("rf").checked) params.set("refine_foreground", "true");
  if ($("matting").checked) params.set("alpha_matting", "true");
  if ($("mask").checked) params.set("only_mask", "true");
  return params.toString();
}

function show(original, result) {
  urls.forEach(URL.revokeObjectURL);
  urls = [URL.createObjectURL(original), URL.createObjectURL(result)];
  $("original").src = $("compare-original").src = urls[0];
  $("result").src = $("compare-result").src = urls[1];
  $("download").href = urls[1];
  $("views").hidden = false;
  $("compare-result").onload = () => { $("compare-original").style.width = $("compare-result").clientWidth + "px"; };
}

function cut(file) {
  if (!file) return;
  if (!ACCEPTED.includes(file.type)) {
    setStatus(`"${file.name}" is not a JPG, PNG or WebP image.`, true);
    return;
  }
  lastFile = file;
  const form = new FormData();
  form.append("file", file);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/remove?" + query());
  xhr.responseType = "blob";
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) $("progress").value = (50 * e.loaded) / e.total; };
  xhr.onload = async () => {
    $("progress").hidden = true;
    if (xhr.status === 200) {
      setStatus(`Done: ${file.name}`);
      show(file, xhr.response);
      return;
    }
    let message = `The server answered ${xhr.status}.`;
    try { message = JSON.parse(await xhr.response.text()).detail || message; } catch (_) { /* not JSON */ }
    setStatus(`Could not cut "${file.name}": ${message}`, true);
  };
  xhr.onerror = () => { $("progress").hidden = true; setStatus("The server could not be reached.", true); };
  $("progress").hidden = false;
  $("progress").value = 0;
  setStatus(`Working on ${file.name}…`);
  xhr.upload.onload = () => { $("progress").value = 75; };
  xhr.send(form);
}

$("file").addEventListener("change", (e) => cut(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); cut(e.dataTransfer.files[0]); });
$("slider").addEventListener("input", (e) => { $("compare-clip").style.width = e.target.value + "%"; });
for (const id of ["use-bg", "bg", "ppm", "rf", "matting", "mask"]) $(id).addEventListener("change", () => cut(lastFile));
