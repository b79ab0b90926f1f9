#!/bin/sh
# Regenerates src/test/resources/golden/model/ (the whole-model parity golden files): the engine
# writes the weights of its seeded models, the PyTorch reference computes loss, log-probabilities and
# gradients from them. Run from the repository root:  sh bench/reference/make_model_golden.sh
set -eu
mvn -q -o -B -Dkernels.skip test-compile
cp=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$cp" "$tmp"' EXIT
mvn -q -o -B dependency:build-classpath -Dmdep.outputFile="$cp" >/dev/null
java -cp "target/classes:target/test-classes:$(cat "$cp")" lmu.parity.ModelParityFixture "$tmp"
/usr/bin/python3 bench/reference/make_model_golden.py "$tmp"
