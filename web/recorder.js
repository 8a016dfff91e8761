// Records a voice message with the microphone (getUserMedia + MediaRecorder). The browser picks
// the container (WebM/Opus in Chromium and Firefox, MP4 in Safari); the node stores it by its
// bytes. Knows nothing about the page: chat.js shows the timer and sends the result.

// Longer recordings stop by themselves, as in WeChat.
export const MAX_RECORDING_MS = 60_000;
const PREFERRED = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'];

/** Whether this browser can record at all (secure context, microphone API, MediaRecorder). */
export function canRecord(win = globalThis) {
    return Boolean(win.MediaRecorder && win.navigator?.mediaDevices?.getUserMedia);
}

/**
 * Starts recording; resolves to {stop() -> Promise<{blob, seconds, type}>, cancel(), startedAt}
 * or rejects (no microphone, permission refused). onTick(ms) runs every 250 ms; at
 * MAX_RECORDING_MS the recording stops and onLimit() is called.
 */
export async function startRecording({ onTick = () => {}, onLimit = () => {}, win = globalThis } = {}) {
    const stream = await win.navigator.mediaDevices.getUserMedia({ audio: true });
    const type = PREFERRED.find((t) => win.MediaRecorder.isTypeSupported?.(t)) ?? '';
    let recorder;
    try {
        recorder = new win.MediaRecorder(stream, type ? { mimeType: type } : {});
    } catch (err) {
        for (const track of stream.getTracks()) track.stop();
        throw err;
    }
    const chunks = [];
    recorder.addEventListener('dataavailable', (event) => event.data.size > 0 && chunks.push(event.data));
    const startedAt = Date.now();
    const ticker = setInterval(() => {
        const ms = Date.now() - startedAt;
        onTick(ms);
        if (ms >= MAX_RECORDING_MS) onLimit();
    }, 250);
    const finished = new Promise((resolve) => recorder.addEventListener('stop', resolve, { once: true }));
    recorder.start(250);

    function release() {
        clearInterval(ticker);
        for (const track of stream.getTracks()) track.stop();
    }

    return {
        startedAt,
        async stop() {
            const seconds = Math.max(1, Math.round((Date.now() - startedAt) / 1000));
            if (recorder.state !== 'inactive') recorder.stop();
            await finished;
            release();
            const blobType = recorder.mimeType || type || 'audio/webm';
            return { blob: new Blob(chunks, { type: blobType }), seconds, type: blobType };
        },
        cancel() {
            if (recorder.state !== 'inactive') recorder.stop();
            release();
        },
    };
}

/** The length in seconds of an audio file the person picked (its metadata), or null. */
export function audioDuration(file, win = globalThis) {
    return new Promise((resolve) => {
        const url = win.URL.createObjectURL(file);
        const audio = new win.Audio();
        const done = (value) => {
            win.URL.revokeObjectURL(url);
            resolve(value);
        };
        audio.preload = 'metadata';
        audio.onloadedmetadata = () => done(Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : null);
        audio.onerror = () => done(null);
        setTimeout(() => done(null), 5000);
        audio.src = url;
    });
}
