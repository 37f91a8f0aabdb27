# Thin: every target calls a script in scripts/.
.PHONY: serve test setup lint pkg recovery fuzz bench
serve:
	scripts/serve.sh
test:
	scripts/test.sh
setup:
	scripts/setup.sh --test
lint:
	scripts/test.sh lint
pkg:
	scripts/pkg.sh
recovery:
	scripts/recovery.sh
fuzz:
	scripts/fuzz.sh 300
bench:
	scripts/bench.sh
