package lmu.cli;

/** Entry point of {@code java -jar lmu-engine.jar}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println("lmu-engine");
    }
}
