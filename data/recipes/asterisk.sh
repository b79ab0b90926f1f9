#!/usr/bin/env bash
# Prepares the Asterisk prompts (Debian asterisk-core-sounds-en-g722 + asterisk-core-sounds-en,
# one speaker, CC-BY-SA-3.0) as a small real-speech dataset: every prompt with a transcript in
# /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz and a .g722 file under
# /usr/share/asterisk/sounds/en is decoded by ffmpeg to 16 kHz mono WAV, its transcript is
# normalised (notes in brackets removed, numbers spelled out, '*' and '#' read as star and pound),
# and it is listed in OUT_DIR/train.jsonl or OUT_DIR/test.jsonl (test: every 10th prompt in
# sorted name order plus prompts with the same text, so no transcript is in both).
#
# Usage: data/recipes/asterisk.sh [OUT_DIR]      (default: data/asterisk)
# Needs: the packages above, ffmpeg, and the jar (mvn -Dkernels.skip package).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="${1:-$root/data/asterisk}"
jar="$(ls "$root"/target/lmu-engine*.jar 2>/dev/null | grep -v -- '-sources\|original' | head -1 || true)"
if [[ -z "$jar" ]]; then
    echo "asterisk.sh: no target/lmu-engine*.jar; build it first: mvn -q -Dkernels.skip package -DskipTests" >&2
    exit 1
fi
exec java -cp "$jar" lmu.speech.data.Prepare asterisk "$out"
