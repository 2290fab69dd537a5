import java.io.File;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreTool;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.ArrayFilters;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;
import de.bwaldvogel.mongo.wire.BsonConstants;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;

/**
 * Local MongoDB-compatible server for Shoal: mongo-java-server with its H2 MVStore file backend,
 * listening on 127.0.0.1 only. Compared with the library as it comes, writes are committed before
 * they are acknowledged (one commit shared by concurrent writers), unique-index keys are compared by
 * value, documents are stored as BSON instead of Java-serialised, an update changes a copy instead
 * of the document others are reading, the file stays small (pages are compressed and dead chunks
 * reused at once, not after 45 s), and a store that can no longer write stops instead of answering
 * every later command with an error ({@link #failStop}). deploy/local/README.md has the figures.
 *
 * <p>Run with Java's single-file source launch, no build step:
 * {@code java -cp '<jars>/*' ShoalMongoLauncher.java <port> <data file>}
 */
public class ShoalMongoLauncher {

    /**
     * How long a chunk is kept, once no live page is left in it, before its space may be reused.
     * Every commit writes a chunk, so the file levels off near the bytes written per retention
     * period plus the live data: with H2's default of 45 s at about 0.5 GB for 16 MB of data. 0
     * reuses space as soon as no open version needs it; each command keeps the version it reads
     * open ({@link ShoalH2Backend#handleCommand}). H2 never fsyncs: a killed process loses nothing
     * acknowledged, but an OS crash or power cut can lose recent writes, and with space reused at
     * once it is likelier to leave a file that does not open (H2's default assumes the OS writes
     * its buffers out within 45 s).
     */
    private static final int CHUNK_RETENTION_MILLIS = 0;

    /**
     * MB of decoded pages kept in memory (H2's default is 16): a page missing from the cache costs
     * a read, decompression and decoding every document on it.
     */
    private static final int PAGE_CACHE_MB = 256;

    /**
     * A command runs on its connection's event loop and blocks it while waiting for its commit, so
     * more loops than cores let more writers wait for (and share) one commit. Netty's default is
     * two per core.
     */
    private static final int EVENT_LOOP_THREADS = 16;

    /** The exit code when the store can no longer write ({@link #failStop}): EX_SOFTWARE. */
    static final int FAIL_STOP_EXIT = 70;

    /** Set once an orderly shutdown has begun: the store is closed on purpose then. */
    static final AtomicBoolean SHUTTING_DOWN = new AtomicBoolean();

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: java -cp '<jars>/*' ShoalMongoLauncher.java <port> <data file>");
            System.exit(2);
        }
        configureLogging();
        int port = Integer.parseInt(args[0]);
        String dataFile = new File(args[1]).getAbsolutePath();

        ValueOrderedIndexKeys.upgrade(dataFile);
        // LZF page compression: the documents on a page repeat their field names, so it shrinks
        // every chunk a commit writes, and with it the file
        MVStore store = new MVStore.Builder().fileName(dataFile).cacheSize(PAGE_CACHE_MB).compress()
            .backgroundExceptionHandler((thread, error) -> failStop("the background writer failed", error))
            .open();
        store.setRetentionTime(CHUNK_RETENTION_MILLIS);
        MongoServer server = new MongoServer(new ShoalH2Backend(store, dataFile));
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "shoal-mongo-shutdown"));
        server.bind(new InetSocketAddress("127.0.0.1", port), 1, EVENT_LOOP_THREADS);
        System.out.println("ShoalMongoLauncher: listening on 127.0.0.1:" + port + ", data file " + dataFile);
    }

    /**
     * Ends the process at once when the store can no longer write (a full disk, an I/O error, a
     * commit that throws). H2 closes the store then, and the process would live on answering every
     * command with an "Unknown error" — which clients take for a refusal of what they asked, not
     * for an outage to wait out. Stopped, the store is an outage: connections are refused until it
     * is started again, and it opens at its last commit, which holds every write it acknowledged
     * (none it failed to commit was acknowledged). halt, not exit: nothing more is written.
     */
    static void failStop(String what, Throwable error) {
        if (SHUTTING_DOWN.get()) {
            return;
        }
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        System.out.flush();
        System.err.println("ShoalMongoLauncher: " + what + ": " + root + "; stopping (exit code "
            + FAIL_STOP_EXIT + ") so that clients wait for the store instead of taking errors;"
            + " every acknowledged write is in the data file, which opens at its last commit");
        System.err.flush();
        Runtime.getRuntime().halt(FAIL_STOP_EXIT);
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
     * The H2 backend with these changes: mutating commands wait for a commit before they reply,
     * unique indexes (the _id index among them) are maps ordered by {@link ValueOrderedIndexKeys},
     * documents are stored as {@link BsonDocuments} in a {@link CopyOnUpdateCollection}, no command
     * replies once a failed write has closed the store ({@link #failStop}), dropping a database
     * removes its own maps only (not those of a database whose name it begins), and a clean
     * shutdown compacts the file.
     */
    static final class ShoalH2Backend extends H2Backend {

        private static final Set<String> MUTATING_COMMANDS = Set.of(
            "insert", "update", "delete", "findandmodify",
            "create", "drop", "dropdatabase", "renamecollection",
            "createindexes", "dropindexes");

        private final String dataFile;
        private final GroupCommit groupCommit;
        private final AtomicBoolean closed = new AtomicBoolean();

        ShoalH2Backend(MVStore store, String dataFile) {
            super(store);
            this.dataFile = dataFile;
            this.groupCommit = new GroupCommit(store);
        }

        /**
         * A mutating command waits for a commit that includes it before it replies. Every command
         * registers as a user of the store's current version while it runs: MVStore then keeps
         * the chunks that version reads, which a long query could otherwise find reused under it,
         * as dead chunks are reused at once.
         */
        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            boolean mutating = isMutating(command, query);
            MVStore.TxCounter reading = getMvStore().registerVersionUsage();
            try {
                return super.handleCommand(channel, databaseName, command, query);
            } finally {
                getMvStore().deregisterVersionUsage(reading);
                // also when the command failed: an ordered batch may have applied its first writes
                if (mutating) {
                    groupCommit.awaitCommitOfFinishedWrites();
                }
                // H2 closed the store on a failed write: no reply of "store is closed" leaves here
                if (getMvStore().isClosed()) {
                    failStop("the store was closed by a failed write", closedReason());
                }
            }
        }

        private Throwable closedReason() {
            Throwable panic = getMvStore().getPanicException();
            return panic != null ? panic : new IllegalStateException("the store is closed");
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

        @Override
        protected MongoDatabase openOrCreateDatabase(String databaseName) {
            return new Database(databaseName);
        }

        /**
         * An inner class, because H2Database's constructor already opens the indexes: the outer
         * instance (and its store) is there by then, a field of this class would not be.
         */
        final class Database extends H2Database {

            /**
             * The collections registered in this database (AbstractMongoDatabase keeps its own
             * privately). Made on first use: the super constructor opens collections before this
             * class's fields are initialised (an initialiser would then replace the set).
             */
            private Set<String> registered;

            private Set<String> registered() {
                if (registered == null) {
                    registered = ConcurrentHashMap.newKeySet();
                }
                return registered;
            }

            Database(String databaseName) {
                super(databaseName, ShoalH2Backend.this.getMvStore(), ShoalH2Backend.this.getCursorRegistry());
            }

            @Override
            public void unregisterCollection(String collectionName) {
                super.unregisterCollection(collectionName);
                registered().remove(collectionName);
            }

            /**
             * H2Database drops a database by removing every map whose name starts with
             * "databases.&lt;name&gt;" or "meta.&lt;name&gt;", without the dot after the name: dropping
             * "t_store1" emptied the collections of "t_store10" behind their indexes (which then
             * failed every drop of it). Here the collections are dropped as AbstractMongoDatabase
             * drops them, then only the maps of this database are removed.
             */
            @Override
            public void drop(Oplog oplog) {
                List<String> system = new ArrayList<>();
                for (String name : new ArrayList<>(registered())) {
                    if (name.startsWith("system.")) {
                        system.add(name);
                    } else {
                        dropCollection(name, oplog);
                    }
                }
                // the index list before the namespaces, as AbstractMongoDatabase does
                system.sort(Comparator.comparing((String name) -> !name.equals("system.indexes")));
                for (String name : system) {
                    dropCollection(name, oplog);
                }
                MVStore store = ShoalH2Backend.this.getMvStore();
                String name = getDatabaseName() + ".";
                for (String map : new ArrayList<>(store.getMapNames())) {
                    if (map.startsWith(name) || map.startsWith("databases." + name) || map.startsWith("meta." + name)) {
                        store.removeMap(map);
                    }
                }
            }

            /**
             * H2Database opens the index map by name with the default key type; MVStore hands back
             * a map that is already open, so opening it first with ours is enough.
             */
            @Override
            protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName,
                                                            List<IndexKey> keys, boolean sparse) {
                String mapName = getFullCollectionNamespace(collectionName) + "._index_" + indexName;
                ShoalH2Backend.this.getMvStore().openMap(mapName, ValueOrderedIndexKeys.mapBuilder());
                return super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse);
            }

            /**
             * A collection's documents, stored as {@link BsonDocuments}, in a collection that
             * updates copies ({@link CopyOnUpdateCollection}); maps named as H2Database names them.
             */
            @Override
            protected MongoCollection<Object> openOrCreateCollection(String collectionName,
                                                                     CollectionOptions options) {
                registered().add(collectionName);
                String namespace = getFullCollectionNamespace(collectionName);
                MVStore store = ShoalH2Backend.this.getMvStore();
                MVMap<Object, Document> documents = store.openMap("databases." + namespace, BsonDocuments.mapBuilder());
                MVMap<String, Object> meta = store.openMap("meta." + namespace);
                return new CopyOnUpdateCollection(this, collectionName, options, documents, meta, cursorRegistry);
            }
        }

        /**
         * The running file holds dead chunks not yet reused and partly filled ones besides the live
         * data; a clean shutdown rewrites it with only the live data.
         */
        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            SHUTTING_DOWN.set(true);
            super.close();
            File file = new File(dataFile);
            long before = file.length();
            long started = System.nanoTime();
            MVStoreTool.compact(dataFile, true);
            long millis = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("ShoalMongoLauncher: compacted %s from %d to %d bytes in %d ms%n",
                dataFile, before, file.length(), millis);
        }
    }

    /**
     * The library updates a document by changing the stored object in place, field by field. That
     * object is shared: a reply being encoded, a cursor's next batch and the commit writing its page
     * in the background all read it meanwhile, so a read could answer with half of one write and
     * half of another, and a commit could fail on a ConcurrentModificationException, after which
     * every later commit failed too. Here an update (and a findAndModify) changes a copy of each
     * document it matched and stores the copy, so a stored document is never changed again. The
     * copy is shallow: the library computes the new values from a deep copy of its own and then
     * replaces the matched document's top-level fields, so nested values are never changed in
     * place. Reads still share stored documents without copying.
     */
    static final class CopyOnUpdateCollection extends H2Collection {

        /** Set while this collection's monitor is held by an update (the library's updates hold it). */
        private boolean updating;

        CopyOnUpdateCollection(MongoDatabase database, String collectionName, CollectionOptions options,
                               MVMap<Object, Document> documents, MVMap<String, Object> meta,
                               CursorRegistry cursorRegistry) {
            super(database, collectionName, options, documents, meta, cursorRegistry);
        }

        @Override
        public synchronized Document updateDocuments(Document selector, Document updateQuery, ArrayFilters arrayFilters,
                                                     boolean isMulti, boolean isUpsert, Oplog oplog) {
            updating = true;
            try {
                return super.updateDocuments(selector, updateQuery, arrayFilters, isMulti, isUpsert, oplog);
            } finally {
                updating = false;
            }
        }

        @Override
        public synchronized Document findAndModify(Document query) {
            updating = true;
            try {
                return super.findAndModify(query);
            } finally {
                updating = false;
            }
        }

        /** Both ways of finding documents (by index, by scan) end here, after matching. */
        @Override
        protected QueryResult matchDocumentsFromStream(Document query, Stream<Document> documents, int numberToSkip,
                                                       int limit, int batchSize, Comparator<Document> order,
                                                       Document fieldSelector) {
            QueryResult matched = super.matchDocumentsFromStream(query, documents, numberToSkip, limit, batchSize,
                order, fieldSelector);
            if (!updating) {
                return matched;
            }
            List<Document> copies = new ArrayList<>();
            for (Document document : matched) {
                copies.add(document.clone());
            }
            return new QueryResult(copies, matched.getCursorId());
        }
    }

    /**
     * Commits before a write is acknowledged, one commit for all writers that finished meanwhile.
     * A writer counts itself finished, then takes the lock: if a commit that started after it
     * finished has covered it, it returns at once; otherwise it commits everything finished so far.
     * So while one commit runs, the writers queueing behind it share the next one.
     */
    static final class GroupCommit {

        private final MVStore store;
        private final AtomicLong finishedWrites = new AtomicLong();
        private long committedWrites;

        GroupCommit(MVStore store) {
            this.store = store;
        }

        void awaitCommitOfFinishedWrites() {
            long write = finishedWrites.incrementAndGet();
            synchronized (this) {
                if (committedWrites >= write) {
                    return;
                }
                long covered = finishedWrites.get();
                try {
                    if (store.commit() < 0) {
                        // Nothing left to commit: the store's background writer (or a commit under
                        // memory pressure) took these changes and may still be writing them out.
                        store.executeFilestoreOperation(() -> { });
                    }
                } catch (RuntimeException error) {
                    failStop("a commit failed", error);
                    throw error;
                }
                committedWrites = covered;
            }
        }
    }

    /**
     * mongo-java-server keys its unique indexes by {@link KeyValue}, which is not Comparable, so
     * H2's ObjectDataType compares two keys by Java-serialising both, at every step of every B-tree
     * search. This type compares the values inside, one by one, with ObjectDataType's order for
     * each value; it writes and reads keys exactly as before. Equal keys stay equal, but the order
     * differs, so index maps of a file from before are rebuilt once ({@link #upgrade}), and the file
     * is marked with {@link #STORE_VERSION}.
     */
    static final class ValueOrderedIndexKeys extends ObjectDataType {

        static final int STORE_VERSION = 1;

        static <V> MVMap.Builder<Object, V> mapBuilder() {
            return new MVMap.Builder<Object, V>().keyType(new ValueOrderedIndexKeys());
        }

        @Override
        public int compare(Object a, Object b) {
            if (a instanceof KeyValue left && b instanceof KeyValue right) {
                int common = Math.min(left.size(), right.size());
                for (int i = 0; i < common; i++) {
                    int order = super.compare(left.get(i), right.get(i));
                    if (order != 0) {
                        return order;
                    }
                }
                return Integer.compare(left.size(), right.size());
            }
            return super.compare(a, b);
        }

        /**
         * Rewrites every index map of a file not yet marked, in one commit: auto-commit is off, so
         * a crash midway leaves the file as it was and the next start begins again. Index maps are
         * recognised by their keys, whatever their names.
         */
        static void upgrade(String dataFile) {
            MVStore store = new MVStore.Builder()
                .fileName(dataFile)
                .autoCommitDisabled()
                .autoCommitBufferSize(0)
                .open();
            try {
                if (store.getStoreVersion() >= STORE_VERSION) {
                    return;
                }
                long started = System.nanoTime();
                int maps = 0;
                long keys = 0;
                for (String name : new ArrayList<>(store.getMapNames())) {
                    MVMap<Object, Object> old = store.openMap(name);
                    if (!(old.firstKey() instanceof KeyValue)) {
                        continue;
                    }
                    List<Map.Entry<Object, Object>> entries = new ArrayList<>(old.entrySet());
                    store.removeMap(old);
                    MVMap<Object, Object> rebuilt = store.openMap(name, mapBuilder());
                    for (Map.Entry<Object, Object> entry : entries) {
                        rebuilt.put(entry.getKey(), entry.getValue());
                    }
                    maps++;
                    keys += entries.size();
                }
                store.setStoreVersion(STORE_VERSION);
                store.commit();
                if (maps > 0) {
                    System.out.printf("ShoalMongoLauncher: rebuilt %d index maps (%d keys) of %s in key-value order in %d ms%n",
                        maps, keys, dataFile, (System.nanoTime() - started) / 1_000_000);
                }
            } finally {
                store.close();
            }
        }
    }

    /**
     * Documents as BSON, with the library's own wire codec. H2's ObjectDataType Java-serialises
     * them, which took most of the CPU of a commit (a commit writes every document of each page
     * it changed) and made pages large. A value starts with a format byte. 19 is ObjectDataType's
     * tag for a Java-serialised object: documents written before are read as they are and become
     * BSON when their page is next written, and a document with a Java value that has no BSON type
     * is still written that way. 127 is BSON, a tag ObjectDataType does not know, so an older
     * launcher fails on such a file instead of misreading it.
     */
    static final class BsonDocuments extends BasicDataType<Document> {

        private static final byte JAVA_SERIALIZED = 19;
        private static final byte BSON = 127;

        static MVMap.Builder<Object, Document> mapBuilder() {
            return new MVMap.Builder<Object, Document>().valueType(new BsonDocuments());
        }

        @Override
        public void write(WriteBuffer buff, Document document) {
            ByteBuf bson = Unpooled.buffer();
            try {
                BsonEncoder.encodeDocument(document, bson);
                if (bson.readableBytes() <= BsonConstants.MAX_BSON_OBJECT_SIZE) {
                    buff.put(BSON).putVarInt(bson.readableBytes())
                        .put(bson.array(), bson.arrayOffset() + bson.readerIndex(), bson.readableBytes());
                    return;
                }
            } catch (IllegalArgumentException notBson) {
                // a Java value without a BSON type; kept as Java serialisation below
            } finally {
                bson.release();
            }
            byte[] serialised = ObjectDataType.serialize(document);
            buff.put(JAVA_SERIALIZED).putVarInt(serialised.length).put(serialised);
        }

        @Override
        public Document read(ByteBuffer buff) {
            byte format = buff.get();
            byte[] data = new byte[DataUtils.readVarInt(buff)];
            buff.get(data);
            return format == BSON
                ? BsonDecoder.decodeBson(Unpooled.wrappedBuffer(data))
                : (Document) ObjectDataType.deserialize(data);
        }

        @Override
        public Document[] createStorage(int size) {
            return new Document[size];
        }

        /** A rough size in memory: pages are split, cached and committed by these estimates. */
        @Override
        public int getMemory(Document document) {
            return memoryOf(document);
        }

        private static int memoryOf(Object value) {
            if (value instanceof Map<?, ?> map) {
                int memory = 64;
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    memory += 48 + 2 * entry.getKey().toString().length() + memoryOf(entry.getValue());
                }
                return memory;
            }
            if (value instanceof Collection<?> values) {
                int memory = 40;
                for (Object element : values) {
                    memory += 8 + memoryOf(element);
                }
                return memory;
            }
            if (value instanceof String string) {
                return 40 + 2 * string.length();
            }
            return 24;
        }
    }
}
