// The page: records from the microphone and streams 16-bit PCM over the
// /stream websocket (partial and final transcripts come back), or posts a
// dropped or chosen file to /transcribe. No build step, no libraries.
"use strict";

const $ = (id) => document.getElementById(id);
let recording = null;  // {context, stream, node, socket, frames}

function status(text) { $("status").textContent = text || ""; }

function showWords(words) {
  const body = $("words").querySelector("tbody");
  body.textContent = "";
  for (const w of words) {
    const row = body.insertRow();
    for (const value of [w.word, w.start.toFixed(2), w.end.toFixed(2),
                         w.confidence.toFixed(2)]) {
      row.insertCell().textContent = value;
    }
  }
  $("words").hidden = words.length === 0;
}

// With --endpoint_silence_sec a recording has a final per utterance: the
// page shows them all, one after another.
let finals = [];

function showFinal(text, words, done = true) {
  finals.push({text, words});
  $("partial").textContent = "";
  $("final").textContent = finals.map((f) => f.text).filter((t) => t).join(" ");
  showWords(finals.flatMap((f) => f.words));
  if (done) document.body.dataset.state = "done";
}

function reset() {
  finals = [];
  $("partial").textContent = "";
  $("final").textContent = "";
  showWords([]);
  status("");
  document.body.dataset.state = "busy";
}

// A WAV file of the int16 frames sent (what the server transcribed).
function wavBlob(frames, rate) {
  const samples = frames.reduce((n, f) => n + f.byteLength, 0) / 2;
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, s) => [...s].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF"); header.setUint32(4, 36 + 2 * samples, true); text(8, "WAVE");
  text(12, "fmt "); header.setUint32(16, 16, true); header.setUint16(20, 1, true);
  header.setUint16(22, 1, true); header.setUint32(24, rate, true);
  header.setUint32(28, 2 * rate, true); header.setUint16(32, 2, true);
  header.setUint16(34, 16, true); text(36, "data"); header.setUint32(40, 2 * samples, true);
  return new Blob([header.buffer, ...frames], {type: "audio/wav"});
}

async function modelRate() {
  const answer = await fetch("/model");
  return (await answer.json()).sample_rate;
}

async function record() {
  reset();
  $("record").disabled = true;
  $("download").hidden = true;
  try {
    const rate = await modelRate();
    const stream = await navigator.mediaDevices.getUserMedia({audio: {
      channelCount: 1, echoCancellation: false, noiseSuppression: false,
      autoGainControl: false}});
    const context = new AudioContext();
    await context.audioWorklet.addModule("/recorder.js");
    const node = new AudioWorkletNode(context, "downsampler",
                                      {processorOptions: {targetRate: rate}});
    const socket = new WebSocket(`ws://${location.host}/stream?rate=${rate}`);
    socket.binaryType = "arraybuffer";
    recording = {context, stream, node, socket, rate, frames: []};
    socket.onmessage = (event) => received(JSON.parse(event.data));
    socket.onclose = () => { $("record").disabled = false; $("stop").disabled = true; };
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("cannot connect to /stream"));
    });
    node.port.onmessage = (event) => {
      if (event.data === "flushed") { finishRecording(); return; }
      recording.frames.push(event.data);
      socket.send(event.data);
    };
    // The node's silent output keeps the graph pulling the microphone.
    context.createMediaStreamSource(stream).connect(node);
    node.connect(context.destination);
    $("stop").disabled = false;
    document.body.dataset.state = "recording";
  } catch (error) {
    status(`cannot record: ${error.message}`);
    $("record").disabled = false;
    document.body.dataset.state = "error";
  }
}

function stop() {
  if (!recording) return;
  $("stop").disabled = true;
  recording.stream.getTracks().forEach((track) => track.stop());
  recording.node.port.postMessage("stop");  // the worklet answers "flushed"
  document.body.dataset.state = "busy";
}

// Every frame is sent: end the stream and offer what was sent as a WAV.
function finishRecording() {
  recording.socket.send("end");
  recording.context.close();
  const link = $("download");
  link.href = URL.createObjectURL(wavBlob(recording.frames, recording.rate));
  link.hidden = false;
}

function received(message) {
  if (message.error) {
    status(message.error);
    document.body.dataset.state = "error";
  } else if ("final" in message) {
    // An utterance's final while recording: more may follow.
    showFinal(message.final, message.words,
              document.body.dataset.state !== "recording");
  } else if ("partial" in message) {
    $("partial").textContent = message.partial;
  }
}

async function upload(file) {
  reset();
  status(`transcribing ${file.name}...`);
  const form = new FormData();
  form.append("audio", file, file.name);
  try {
    const answer = await fetch("/transcribe", {method: "POST", body: form});
    const result = await answer.json();
    if (!answer.ok) throw new Error(result.error);
    status("");
    showFinal(result.text, result.words);
  } catch (error) {
    status(`${file.name}: ${error.message}`);
    document.body.dataset.state = "error";
  }
}

$("record").onclick = record;
$("stop").onclick = stop;
$("file").onchange = (event) => { if (event.target.files[0]) upload(event.target.files[0]); };
const drop = $("drop");
drop.ondragover = (event) => { event.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files[0]) upload(event.dataTransfer.files[0]);
};
