/** The kernel interface every device implements, and the choice of backend per tensor. */
package lmu.backend;
