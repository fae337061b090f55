package mart.ocop.search;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Runs one single-node OpenSearch 2.19 cluster in this JVM, built only from Maven Central jars.
 *
 * Usage: EngineMain [httpPort] [dataDir]   (or env OPENSEARCH_PORT / OPENSEARCH_DATA).
 * Prints "OPENSEARCH READY http://127.0.0.1:PORT" once health is >= yellow; stops cleanly on SIGTERM/SIGINT.
 */
public final class EngineMain {

    /** Node's plugin-taking constructor is protected: it is how OpenSearch's own test clusters embed a node. */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(Netty4Plugin.class, CommonAnalysisPlugin.class);

    public static void main(String[] args) throws Exception {
        // The stock distribution passes these through jvm.options; they must be set before log4j/netty load.
        // log4j's own shutdown hook would otherwise stop logging before our hook has closed the node.
        System.setProperty("log4j.shutdownHookEnabled", "false");
        System.setProperty("log4j2.disable.jmx", "true");
        System.setProperty("io.netty.noUnsafe", "true");
        System.setProperty("io.netty.noKeySetOptimization", "true");
        System.setProperty("io.netty.recycler.maxCapacityPerThread", "0");
        System.setProperty("io.netty.allocator.numDirectArenas", "0");

        int port = Integer.parseInt(arg(args, 0, "OPENSEARCH_PORT", "9200"));
        String dataArg = arg(args, 1, "OPENSEARCH_DATA", "");
        boolean ephemeral = dataArg.isEmpty();
        Path home = ephemeral ? Files.createTempDirectory("ocop-opensearch-") : Path.of(dataArg).toAbsolutePath();
        Files.createDirectories(home);

        Settings settings = Settings.builder()
            .put("cluster.name", "ocop-mart")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "n1");

        Node node = new EmbeddedNode(env, PLUGINS);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                boolean closed = node.awaitClose(10, TimeUnit.SECONDS);
                if (ephemeral) {
                    deleteTree(home);
                }
                System.out.println(closed ? "OPENSEARCH STOPPED" : "OPENSEARCH STOP TIMED OUT");
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "opensearch-shutdown"));

        String url = "http://127.0.0.1:" + port;
        try {
            node.start();
            waitForHealth(url, 60);
        } catch (Exception e) {
            // Exit non-zero instead of relying on every node thread being a daemon; the hook still closes the node.
            e.printStackTrace();
            System.exit(1);
        }
        System.out.println("OPENSEARCH READY " + url + " (data " + home + ")");
        System.out.flush();
        stopped.await();
    }

    private static String arg(String[] args, int i, String envName, String dflt) {
        if (args.length > i && !args[i].isBlank()) {
            return args[i];
        }
        String v = System.getenv(envName);
        return v == null || v.isBlank() ? dflt : v;
    }

    /** node.start() returns before existing shards are recovered; READY means HTTP answers and health is >= yellow. */
    private static void waitForHealth(String url, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create(url + "/_cluster/health?wait_for_status=yellow&timeout=1s").toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(5000);
                int code = c.getResponseCode();
                c.disconnect();
                if (code == 200) {
                    return;
                }
            } catch (IOException ignored) {
                // HTTP not up yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("OpenSearch did not reach yellow health on " + url);
            }
            Thread.sleep(200);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
