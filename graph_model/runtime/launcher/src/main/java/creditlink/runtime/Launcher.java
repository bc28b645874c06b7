package creditlink.runtime;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Label;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Transaction;
import org.neo4j.io.ByteUnit;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.impl.security.User;
import org.neo4j.logging.NullLogProvider;
import org.neo4j.memory.EmptyMemoryTracker;
import org.neo4j.server.security.SecureHasher;
import org.neo4j.server.security.SystemGraphCredential;
import org.neo4j.server.security.auth.CommunitySecurityModule;
import org.neo4j.server.security.auth.FileUserRepository;

/**
 * Runs Neo4j Community embedded with only the Bolt connector, bound to loopback, with
 * authentication on.
 *
 * Arguments: dataDir boltPort pageCacheMb. The store lives in dataDir/neo4j and
 * Neo4j's own logs in dataDir/logs. A file dataDir/neo4j.ready holding the pid is
 * written once Bolt is listening and removed on shutdown, so the Python side can
 * tell a live instance on this data dir from a stale one.
 *
 * The password of the user `neo4j` is read from dataDir/neo4j-password (created, mode
 * 0600, by graph_model/runtime/embedded.py), never from the command line: other local
 * users can read every process's arguments.
 */
public final class Launcher {
    static final String USER = "neo4j";

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
        String password = readPassword(dataDir.resolve("neo4j-password"));

        // Neo4j applies auth.ini while the system database starts, before Bolt listens, and
        // only while `neo4j` still has the default password (a fresh store, or one created
        // with authentication off): no moment where neo4j/neo4j is accepted over Bolt.
        Path initialPassword = CommunitySecurityModule.getInitialUserRepositoryFile(
                Config.defaults(GraphDatabaseSettings.neo4j_home, home));
        writeInitialPassword(initialPassword, password);

        DatabaseManagementService service;
        try {
            service = new DatabaseManagementServiceBuilder(home)
                    .setConfig(GraphDatabaseSettings.auth_enabled, true)
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
                    // every one of them, which made those pauses long enough to set the
                    // check's tail latency
                    .setConfig(GraphDatabaseInternalSettings.data_collector_max_recent_query_count, 0)
                    .build();
        } finally {
            Files.deleteIfExists(initialPassword);
        }

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

        // a store whose `neo4j` password is neither the default nor the file's (the file
        // was replaced): the file is the truth, so it wins
        GraphDatabaseService system = service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        if (!passwordMatches(system, password)) {
            system.executeTransactionally(
                    "ALTER USER " + USER + " SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        }

        service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        Files.writeString(ready, Long.toString(ProcessHandle.current().pid()));
        System.out.println("creditlink-neo4j ready bolt://127.0.0.1:" + boltPort);
        System.out.flush();
        stopped.await();
    }

    private static String readPassword(Path file) throws Exception {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no password file " + file);
        }
        String password = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (password.isEmpty()) {
            throw new IllegalStateException("the password file " + file + " is empty");
        }
        return password;
    }

    private static void writeInitialPassword(Path file, String password) throws Exception {
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(file);
        try (var fs = new DefaultFileSystemAbstraction()) {
            var users = new FileUserRepository(
                    fs, file, NullLogProvider.getInstance(), EmptyMemoryTracker.INSTANCE);
            users.start();
            users.create(new User(USER, null, credential(password), false, false));
            users.shutdown();
        }
    }

    private static SystemGraphCredential credential(String password) {
        return SystemGraphCredential.createCredentialForPassword(
                password.getBytes(StandardCharsets.UTF_8), new SecureHasher());
    }

    private static boolean passwordMatches(GraphDatabaseService system, String password)
            throws Exception {
        try (Transaction tx = system.beginTx()) {
            Node user = tx.findNode(Label.label("User"), "name", USER);
            if (user == null) {
                return false;
            }
            String stored = user.getProperty("credentials").toString();
            return SystemGraphCredential.deserialize(stored, new SecureHasher())
                    .matchesPassword(password.getBytes(StandardCharsets.UTF_8));
        }
    }
}
