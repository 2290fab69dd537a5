import java.io.File;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.h2.mvstore.MVStoreTool;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * Local MongoDB-compatible server for Shoal: mongo-java-server with its H2 MVStore file backend,
 * listening on 127.0.0.1 only.
 *
 * <p>Run with Java's single-file source launch, no build step:
 * {@code java -cp '<jars>/*' ShoalMongoLauncher.java <port> <data file>}
 */
public class ShoalMongoLauncher {

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: java -cp '<jars>/*' ShoalMongoLauncher.java <port> <data file>");
            System.exit(2);
        }
        configureLogging();
        int port = Integer.parseInt(args[0]);
        String dataFile = new File(args[1]).getAbsolutePath();

        MongoServer server = new MongoServer(new CommitOnWriteH2Backend(dataFile));
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "shoal-mongo-shutdown"));
        server.bind("127.0.0.1", port);
        System.out.println("ShoalMongoLauncher: listening on 127.0.0.1:" + port + ", data file " + dataFile);
    }

    /**
     * Quiet by default: the library logs every connection at INFO and a stack trace for every
     * client that resets its socket. Command failures stay visible. -D flags still win.
     */
    private static void configureLogging() {
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.out");
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setDefault("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.MongoServer", "info");
        setDefault("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoExceptionHandler", "off");
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSS");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /**
     * The stock H2 backend leaves commits to the MVStore's background writer (about once a second),
     * so a kill -9 loses writes that were already acknowledged. Committing after every mutating
     * command puts an acknowledged write into the file before the reply leaves the server.
     */
    static final class CommitOnWriteH2Backend extends H2Backend {

        private static final Set<String> MUTATING_COMMANDS = Set.of(
            "insert", "update", "delete", "findandmodify",
            "create", "drop", "dropdatabase", "renamecollection",
            "createindexes", "dropindexes");

        private final String dataFile;
        private final AtomicBoolean closed = new AtomicBoolean();

        CommitOnWriteH2Backend(String dataFile) {
            super(dataFile);
            this.dataFile = dataFile;
        }

        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            if (!isMutating(command, query)) {
                return super.handleCommand(channel, databaseName, command, query);
            }
            // finally: a failing ordered batch may still have applied its first writes
            try {
                return super.handleCommand(channel, databaseName, command, query);
            } finally {
                commit();
            }
        }

        private static boolean isMutating(String command, Document query) {
            String name = command.toLowerCase(Locale.ROOT);
            if (MUTATING_COMMANDS.contains(name)) {
                return true;
            }
            return name.equals("aggregate") && writesOutput(query.get("pipeline"));
        }

        private static boolean writesOutput(Object pipeline) {
            if (!(pipeline instanceof List<?> stages)) {
                return false;
            }
            return stages.stream().anyMatch(stage -> stage instanceof Document document
                && (document.containsKey("$out") || document.containsKey("$merge")));
        }

        /**
         * Commit-per-write appends a chunk per command, so the file grows much faster than the
         * data; a clean shutdown rewrites it with only the live data.
         */
        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            super.close();
            File file = new File(dataFile);
            long before = file.length();
            long started = System.nanoTime();
            MVStoreTool.compact(dataFile, false);
            long millis = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("ShoalMongoLauncher: compacted %s from %d to %d bytes in %d ms%n",
                dataFile, before, file.length(), millis);
        }
    }
}
