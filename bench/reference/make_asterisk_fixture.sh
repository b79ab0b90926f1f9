#!/usr/bin/env bash
# Makes the tiny Asterisk-layout fixture used by PrepareTest: G.722 prompts (tones of known
# length, so the decoded durations are known) and a transcript file in the format of Debian's
# core-sounds-en.txt, with a comment, a note-only prompt, a prompt without audio, digits and
# '#'/'*'. Needs: ffmpeg (g722 encoder).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)/src/test/resources/fixtures/asterisk"
rm -rf "$root"
mkdir -p "$root/sounds/digits"
g722() { # seconds frequency output
    ffmpeg -v error -nostdin -y -f lavfi -i "sine=frequency=$2:sample_rate=16000:duration=$1" \
        -c:a g722 -fflags +bitexact -flags:a +bitexact -f g722 "$3"
}
g722 0.5 400 "$root/sounds/hello.g722"
g722 0.75 500 "$root/sounds/press-one.g722"
g722 0.25 600 "$root/sounds/beep.g722"
g722 1.0 700 "$root/sounds/digits/5.g722"
printf '%s\n' \
    "; Core sounds fixture" \
    "" \
    "hello: Hello, there!" \
    "press-one: Press 1, then # (the pound key) or *." \
    "beep: [this is a simple beep tone]" \
    "missing: This prompt has no audio file." \
    "digits/5: five" > "$root/core-sounds-en.txt"
ls -lR "$root"
