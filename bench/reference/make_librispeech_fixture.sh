#!/usr/bin/env bash
# Makes the tiny LibriSpeech-layout fixture used by LibriSpeechTest:
# src/test/resources/fixtures/librispeech/train-mini/<speaker>/<chapter>/ with FLAC files of known
# length (tones: 1.0 s, 0.5 s at 16 kHz; 0.25 s at 8 kHz) and transcripts that include a line
# whose FLAC is missing and a line without transcript. Needs: sox.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)/src/test/resources/fixtures/librispeech/train-mini"
rm -rf "$root"
mkdir -p "$root/19/198" "$root/26/496"
sox -R -n -r 16000 -c 1 -b 16 "$root/19/198/19-198-0000.flac" synth 1.0 sine 300 gain -10
sox -R -n -r 16000 -c 1 -b 16 "$root/19/198/19-198-0001.flac" synth 0.5 sine 500 gain -10
sox -R -n -r 8000 -c 1 -b 16 "$root/26/496/26-496-0000.flac" synth 0.25 sine 700 gain -10
printf '%s\n' \
    "19-198-0000 NORTHANGER ABBEY" \
    "19-198-0001 IT'S THE DOGS' BOWL" \
    "19-198-0002 THIS LINE HAS NO AUDIO FILE" \
    "19-198-0003" > "$root/19/198/19-198.trans.txt"
printf '%s\n' "26-496-0000 CHAPTER ONE" > "$root/26/496/26-496.trans.txt"
ls -lR "$root"
