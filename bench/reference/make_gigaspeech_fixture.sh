#!/usr/bin/env bash
# Makes the audio of the fabricated GigaSpeech release used by the dataset tests:
# src/test/resources/fixtures/gigaspeech/audio/podcast/P0000/POD0000000001.opus, 8.0 s of
# 16 kHz mono Ogg/Opus whose pieces match the segments of GigaSpeech.json next to it:
#   0-2 s "hello world", 2-3 s silence, 3-5 s "it's a well known fact isn't it",
#   5-6 s a two-tone chord (the <MUSIC> segment), 6-8 s "good morning".
# GigaSpeech.json itself is written by hand (it also lists broken entries on purpose).
# Needs: espeak-ng sox ffmpeg (libopus). Deterministic: sox -R, ffmpeg bitexact.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/src/test/resources/fixtures/gigaspeech/audio/podcast/P0000/POD0000000001.opus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

speech() { # text seconds output: speech trimmed of silence, padded/cut to exactly `seconds`
    espeak-ng -v en-us -s 185 -w "$work/raw.wav" "$1"
    sox -V1 -R "$work/raw.wav" -r 16000 -c 1 -b 16 "$3" silence 1 0.02 0.3% pad 0.1 0 pad 0 "$2" trim 0 "$2"
}
speech "hello world" 2 "$work/a.wav"
sox -R -n -r 16000 -c 1 -b 16 "$work/b.wav" trim 0 1
speech "it's a well known fact, isn't it?" 2 "$work/c.wav"
sox -R -n -r 16000 -c 1 -b 16 "$work/d.wav" synth 1 sine 440 sine 660 gain -12
speech "good morning!" 2 "$work/e.wav"
sox -R "$work"/{a,b,c,d,e}.wav "$work/all.wav"
mkdir -p "$(dirname "$out")"
ffmpeg -v error -nostdin -y -i "$work/all.wav" -c:a libopus -b:a 16k -application voip \
    -fflags +bitexact -flags:a +bitexact -map_metadata -1 "$out"
soxi -D "$work/all.wav"
ls -l "$out"
