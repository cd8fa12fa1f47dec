// An AudioWorklet that turns the microphone's first channel into 16-bit
// PCM at the server's rate and posts it in ~100 ms frames. Each output
// sample is the mean of the input samples of its period (a box filter:
// enough against aliasing for speech, and exact for 48 kHz -> 16 kHz).
class Downsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.step = sampleRate / options.processorOptions.targetRate;
    this.frame = new Int16Array(Math.round(options.processorOptions.targetRate / 10));
    this.filled = 0;
    this.sum = 0;
    this.count = 0;
    this.position = 0;  // input samples into the current output period
    // "stop": send what is left, then say so.
    this.port.onmessage = () => { this.flush(); this.port.postMessage("flushed"); };
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.frame[this.filled++] = Math.round(clipped * 32767);
    if (this.filled === this.frame.length) this.flush();
  }

  flush() {
    if (this.filled) this.port.postMessage(this.frame.slice(0, this.filled).buffer);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0][0];
    if (input) {
      for (let i = 0; i < input.length; i++) {
        this.sum += input[i];
        this.count++;
        if (++this.position >= this.step) {
          this.emit(this.sum / this.count);
          this.position -= this.step;
          this.sum = 0;
          this.count = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("downsampler", Downsampler);
