/** A test-only simulated GPU that runs every device op on the CPU backend, for testing device code paths without a GPU. */
package lmu.backend.sim;
