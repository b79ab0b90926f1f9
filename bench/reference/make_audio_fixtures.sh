#!/bin/sh
# Makes the tiny FLAC and Ogg/Opus fixtures of AudioReaderTest (sox + ffmpeg with libopus, Debian).
# Each is a sine of known frequency, amplitude and length; the test checks length exactly and RMS
# against the closed form (A / sqrt(2)). Run from the repository root:
#   sh bench/reference/make_audio_fixtures.sh
set -eu
out=src/test/resources/golden/audio
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
# FLAC: 0.3 s, 16 kHz, 16 bit, stereo (440 Hz left and right, amplitude 0.5) -> 4800 samples
sox -R -r 16000 -n -c 2 -b 16 "$out/sine440_16k_stereo.flac" synth 0.3 sine 440 vol 0.5
# FLAC: 0.25 s, 44.1 kHz, 24 bit, mono (1000 Hz, amplitude 0.25) -> 11025 samples
sox -R -r 44100 -n -c 1 -b 24 "$out/sine1k_44k_24bit.flac" synth 0.25 sine 1000 vol 0.25
# Opus: 0.77 s mono input at 48 kHz (440 Hz, amplitude 0.5) -> exactly 36960 samples after
# pre-skip and end trimming; 100 ms Ogg pages so that segment reads start mid-file
sox -R -r 48000 -n -c 1 -b 16 "$tmp/a.wav" synth 0.77 sine 440 vol 0.5
ffmpeg -nostdin -loglevel error -y -i "$tmp/a.wav" -c:a libopus -b:a 32k -page_duration 100000 \
  -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$out/sine440_48k_mono.opus"
# Opus: 0.5 s stereo input at 16 kHz -> 24000 samples at 48 kHz (8000 at 16 kHz)
sox -R -r 16000 -n -c 2 -b 16 "$tmp/b.wav" synth 0.5 sine 300 vol 0.4
ffmpeg -nostdin -loglevel error -y -i "$tmp/b.wav" -c:a libopus -b:a 32k \
  -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$out/sine300_16k_stereo.opus"
ls -l "$out"
