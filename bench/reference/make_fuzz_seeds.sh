#!/bin/sh
# Short, valid Ogg/Opus files used as seeds by src/test/java/lmu/reliability/ParserFuzzTest (short so
# that each fuzz input decodes in well under a millisecond). Needs ffmpeg with libopus.
set -e
out=src/test/resources/fuzz
mkdir -p "$out"
ffmpeg -hide_banner -loglevel error -fflags +bitexact -f lavfi -i "sine=frequency=440:duration=0.25:sample_rate=48000" \
  -ac 1 -c:a libopus -b:a 16k -flags +bitexact -y "$out/sine440_250ms_mono.opus"
ffmpeg -hide_banner -loglevel error -fflags +bitexact -f lavfi -i "sine=frequency=300:duration=0.2:sample_rate=16000" \
  -ac 2 -c:a libopus -b:a 24k -flags +bitexact -y "$out/sine300_200ms_stereo.opus"
