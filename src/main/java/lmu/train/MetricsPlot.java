package lmu.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Draws the curves of a run's {@code metrics.jsonl} into a PNG: training and validation loss, validation WER and CER. */
public final class MetricsPlot {
    private static final int W = 1000, H = 420, PAD = 60;

    private MetricsPlot() {}

    /** A named series of (step, value) points. */
    record Series(String name, Color color, List<double[]> points) {}

    /** Reads metrics.jsonl and writes the two-panel PNG. */
    public static void write(Path metricsJsonl, Path png) throws IOException {
        Series loss = new Series("train loss", new Color(0x1f77b4), new ArrayList<>());
        Series vloss = new Series("valid loss", new Color(0xff7f0e), new ArrayList<>());
        Series wer = new Series("valid WER %", new Color(0xd62728), new ArrayList<>());
        Series cer = new Series("valid CER %", new Color(0x2ca02c), new ArrayList<>());
        for (String line : Files.readAllLines(metricsJsonl)) {
            if (line.isBlank()) continue;
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            double step = o.has("step") ? o.get("step").getAsDouble() : 0;
            String kind = o.get("kind").getAsString();
            if (kind.equals("train") && finite(o, "loss")) loss.points().add(new double[] {step, o.get("loss").getAsDouble()});
            if (kind.equals("valid")) {
                if (finite(o, "valid_loss")) vloss.points().add(new double[] {step, o.get("valid_loss").getAsDouble()});
                if (finite(o, "wer")) wer.points().add(new double[] {step, 100 * o.get("wer").getAsDouble()});
                if (finite(o, "cer")) cer.points().add(new double[] {step, 100 * o.get("cer").getAsDouble()});
            }
        }
        BufferedImage img = new BufferedImage(W, 2 * H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, 2 * H);
        panel(g, 0, "CTC loss (per label)", List.of(loss, vloss));
        panel(g, H, "validation error rate (%)", List.of(wer, cer));
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static boolean finite(JsonObject o, String k) {
        return o.has(k) && !o.get(k).isJsonNull() && Double.isFinite(o.get(k).getAsDouble());
    }

    private static void panel(Graphics2D g, int top, String title, List<Series> series) {
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (Series s : series) {
            for (double[] p : s.points()) {
                x0 = Math.min(x0, p[0]);
                x1 = Math.max(x1, p[0]);
                y0 = Math.min(y0, p[1]);
                y1 = Math.max(y1, p[1]);
            }
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, PAD, top + 25);
        int left = PAD, right = W - 20, bottom = top + H - 40, upper = top + 40;
        g.drawRect(left, upper, right - left, bottom - upper);
        if (x0 > x1) {
            g.drawString("no data yet", left + 20, upper + 30);
            return;
        }
        if (x1 == x0) x1 = x0 + 1;
        if (y1 == y0) y1 = y0 + 1;
        y0 = Math.min(0, y0);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i <= 4; i++) {
            double yv = y0 + (y1 - y0) * i / 4, xv = x0 + (x1 - x0) * i / 4;
            int py = (int) (bottom - (bottom - upper) * i / 4.0), px = (int) (left + (right - left) * i / 4.0);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, py, right, py);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.2f", yv), 5, py + 4);
            g.drawString(String.format(Locale.ROOT, "%.0f", xv), px - 10, bottom + 15);
        }
        g.drawString("step", right - 30, bottom + 30);
        int legend = 0;
        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(new BasicStroke(2f));
            int[] prev = null;
            for (double[] p : s.points()) {
                int px = (int) (left + (right - left) * (p[0] - x0) / (x1 - x0));
                int py = (int) (bottom - (bottom - upper) * (p[1] - y0) / (y1 - y0));
                if (prev != null) g.drawLine(prev[0], prev[1], px, py);
                if (s.points().size() < 60) g.fillOval(px - 3, py - 3, 6, 6);
                prev = new int[] {px, py};
            }
            g.drawString(s.name(), right - 130, upper + 20 + 16 * legend++);
        }
    }
}
