#!/usr/bin/env bash
# Builds the built-in corpus: synthetic multi-voice English speech from espeak-ng and flite,
# post-processed with sox (-R: no random dither, so runs repeat exactly) and encoded as
# 12 kbit/s Ogg/Opus at 16 kHz mono, with train.jsonl and test.jsonl manifests whose audio paths
# are relative to the manifest.
#
# Usage: data/recipes/builtin_corpus.sh [OUT_DIR] [N_TRAIN] [N_TEST] [SEED]
#   defaults: src/main/resources/corpus/builtin 4400 160 1
# Needs (Debian): python3 espeak-ng flite sox ffmpeg (with libopus).
# The sentences come from data/recipes/builtin_sentences.py (word lists written for this project);
# train and test never share a sentence. See data/builtin/README.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../src/main/resources/corpus/builtin}"
n_train="${2:-4400}"
n_test="${3:-160}"
seed="${4:-1}"
jobs="${JOBS:-2}"
export BITRATE="${BITRATE:-12k}"   # Opus bit rate: 12 kbit/s keeps 4560 utterances near 15 MB

for tool in /usr/bin/python3 espeak-ng flite sox soxi ffmpeg; do
    command -v "$tool" >/dev/null || { echo "builtin_corpus.sh: missing tool '$tool'" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/audio"
rm -f "$out"/audio/*.opus "$out"/train.jsonl "$out"/test.jsonl

/usr/bin/python3 "$here/builtin_sentences.py" "$n_train" "$n_test" "$seed" > "$work/plan.tsv"

# One utterance: synthesise and post-process to $work/wav/<id>.wav; its manifest line goes to
# $work/lines/<split>.<id>.
synth() {
    local line="$1" work="$2"
    local id split engine voice speed pitch tempo gain text
    IFS=$'\t' read -r id split engine voice speed pitch tempo gain text <<< "$line"
    local raw="$work/$id.raw.wav" wav="$work/wav/$id.wav"
    if [[ "$engine" == espeak ]]; then
        espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$raw" "$text"
    else
        local stretch
        stretch="$(printf '%d.%02d' $((speed / 100)) $((speed % 100)))"
        flite -voice "$voice" --setf duration_stretch="$stretch" -t "$text" -o "$raw"
    fi
    # mono 16 kHz 16 bit; 6 dB headroom; trim leading/trailing silence; tempo; 0.1 s/0.15 s pads; peak level
    sox -R "$raw" -c 1 -b 16 "$wav" gain -n -6 \
        silence 1 0.02 0.3% reverse silence 1 0.02 0.3% reverse \
        tempo -s "$tempo" pad 0.1 0.15 rate -h 16000 norm "$((gain - 1))"
    local dur
    dur="$(soxi -D "$wav")"
    printf '{"audio_filepath": "audio/%s.opus", "duration": %.3f, "text": "%s", "speaker": "%s:%s"}\n' \
        "$id" "$dur" "$text" "$engine" "$voice" > "$work/lines/$split.$id"
    rm -f "$raw"
}
# A batch of WAV files to 16 kbit/s Opus in one ffmpeg run (its start-up dominates otherwise).
encode() {
    local out="$1"; shift
    local inputs=() outputs=() i=0 wav id
    for wav in "$@"; do
        id="$(basename "$wav" .wav)"
        inputs+=(-i "$wav")
        outputs+=(-map "$i:a" -c:a libopus -b:a "$BITRATE" -application voip -fflags +bitexact -flags:a +bitexact
                  -map_metadata -1 "$out/audio/$id.opus")
        i=$((i + 1))
    done
    ffmpeg -v error -nostdin -y "${inputs[@]}" "${outputs[@]}"
}
export -f synth encode
mkdir -p "$work/lines" "$work/wav"
tr '\n' '\0' < "$work/plan.tsv" | xargs -0 -P "$jobs" -I{} bash -c 'synth "$1" "$2"' _ {} "$work"
find "$work/wav" -name '*.wav' -print0 | sort -z | xargs -0 -n 40 -P "$jobs" bash -c 'encode "$0" "$@"' "$out"

for split in train test; do
    cat "$work"/lines/"$split".* > "$out/$split.jsonl"   # glob order = sorted ids
done
echo "builtin corpus: $(wc -l < "$out/train.jsonl") train, $(wc -l < "$out/test.jsonl") test utterances in $out"
du -sh --apparent-size "$out"
