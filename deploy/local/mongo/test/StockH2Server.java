import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;

/**
 * For tests only: mongo-java-server's H2 backend as the library ships it, which writes data files
 * in the format ShoalMongoLauncher had before it compared index keys by value. It commits in the
 * background and at a clean shutdown (SIGTERM), not after every write.
 *
 * <p>{@code java -cp '<jars>/*' StockH2Server.java <port> <data file>}
 */
public class StockH2Server {

    public static void main(String[] args) {
        MongoServer server = new MongoServer(new H2Backend(args[1]));
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "stock-h2-shutdown"));
        server.bind("127.0.0.1", Integer.parseInt(args[0]));
    }
}
