#!/bin/sh
# Log-mel throughput side by side, same machine, same run: torchaudio MelSpectrogram + log vs
# lmu.speech.features.LogMel, 100 utterances x 4 s at 16 kHz, 2 threads each.
# Run from the repository root:  sh bench/reference/logmel_side_by_side.sh [threads] [utterances] [seconds]
set -eu
threads=${1:-2}; count=${2:-100}; seconds=${3:-4}
mvn -q -o -B -Dkernels.skip test-compile
mvn -q -o -B dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
cp=target/classes:target/test-classes:$(cat target/bench-classpath.txt)
echo "machine: $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
java -cp "$cp" lmu.speech.features.LogMelSideBySide "$threads" "$count" "$seconds"
/usr/bin/python3 bench/reference/logmel_side_by_side.py "$threads" "$count" "$seconds"
