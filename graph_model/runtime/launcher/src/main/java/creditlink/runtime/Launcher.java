package creditlink.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs Neo4j Community embedded with only the Bolt connector, bound to loopback.
 *
 * Arguments: dataDir boltPort pageCacheMb. The store lives in dataDir/neo4j and
 * Neo4j's own logs in dataDir/logs. A file dataDir/neo4j.ready holding the pid is
 * written once Bolt is listening and removed on shutdown, so the Python side can
 * tell a live instance on this data dir from a stale one.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher <dataDir> <boltPort> <pageCacheMb>");
            System.exit(2);
        }
        Path dataDir = Path.of(args[0]).toAbsolutePath();
        int boltPort = Integer.parseInt(args[1]);
        long pageCacheMb = Long.parseLong(args[2]);
        Path home = dataDir.resolve("neo4j");
        Path logs = dataDir.resolve("logs");
        Files.createDirectories(home);
        Files.createDirectories(logs);
        Path ready = dataDir.resolve("neo4j.ready");
        Files.deleteIfExists(ready);

        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", boltPort))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", boltPort))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.logs_directory, logs)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofSeconds(60))
                .setConfig(GraphDatabaseSettings.query_cache_size, 2000)
                // The data collector (db.stats.collect) otherwise keeps the last 8,192
                // queries with their parameters whether or not anyone collects: each
                // check's lives for seconds, survives young collections and is copied by
                // every one of them, which was most of the 35-75 ms pauses behind the
                // check's p99 (bench/README.md, "Tail at half load")
                .setConfig(GraphDatabaseInternalSettings.data_collector_max_recent_query_count, 0)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(ready);
            } catch (Exception ignored) {
                // the marker is advisory; shutting the store down cleanly matters more
            }
            service.shutdown();
            stopped.countDown();
        }, "creditlink-neo4j-shutdown"));

        service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        Files.writeString(ready, Long.toString(ProcessHandle.current().pid()));
        System.out.println("creditlink-neo4j ready bolt://127.0.0.1:" + boltPort);
        System.out.flush();
        stopped.await();
    }
}
