ALTER TABLE events ADD CONSTRAINT events_thread_id_fkey FOREIGN KEY (thread_id) REFERENCES threads (id);
ALTER TABLE events ADD CONSTRAINT events_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id);
