/** The command line: {@code java -jar lmu-engine.jar <command>}; the only place that maps errors to exit codes. */
package lmu.cli;
