/** Small shared helpers: argument checks, seeded random numbers, threading. */
package lmu.util;
